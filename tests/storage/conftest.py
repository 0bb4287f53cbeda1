"""The storage tests reuse the documents tests' fixtures."""

# The documents tests' deal with an estimate, its proposal, sent (which queues its PDF).
from tests.documents.conftest import (  # noqa: F401 - fixtures
    clean_cache,
    deal,
    migration_data,
    proposal,
    rub_list,
    sent_proposal,
)
