"""What a sandbox child needs loaded: Django's settings and translations, the sandbox and the
document filters. The fork server imports this module once (``isolation.PRELOAD``), so each
forked child starts ready; a child never opens a database connection (its jobs get plain
data and return plain data)."""

from __future__ import annotations

import contextlib


def setup() -> None:
    """Configure Django in this process once (the fork server, or a child if that failed)."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from studiocrm.documents import filters, sandbox  # noqa: F401

    sandbox.environment()


def prepare_pdf() -> None:
    """Load WeasyPrint before the memory limit is measured: its import is not the job's."""
    import weasyprint  # noqa: F401


# In the fork server: load everything now; a failure here is retried in each child, which
# then reports it.
with contextlib.suppress(Exception):
    setup()
