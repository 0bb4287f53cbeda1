"""The portal tests reuse the brief fixtures (a brief is the first object behind a link)."""

from tests.briefs.conftest import (  # noqa: F401
    REQUIRED_CORPORATE_ANSWERS,
    clean_cache,
    deal,
    fill_required,
    migration_data,
    private_root,
    sent_brief,
    template_en,
    template_ru,
)
