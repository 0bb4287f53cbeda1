"""The brief's answers as a PDF (WeasyPrint), for the manager to print or forward."""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import translation

from studiocrm.briefs import client_form
from studiocrm.briefs.models import Brief
from studiocrm.core.models import Studio

# WeasyPrint reports every layout step at INFO; keep it out of the application log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def render_brief_pdf(brief: Brief, *, language: str | None = None) -> bytes:
    """Render the answers; text is escaped like on every page, fonts embed Cyrillic."""
    from weasyprint import HTML  # imported here: loading it costs ~0.5 s per process

    with translation.override(language or brief.language):
        # Built inside the override: "Yes"/"No" and "Other" belong to the brief's language.
        sections = client_form.build(
            brief.questions, brief.answers, files=brief.files.all(), flag_missing=True
        )
        html = render_to_string(
            "briefs/brief_pdf.html",
            {"brief": brief, "sections": sections, "studio": Studio.load(), "deal": brief.deal},
        )
    # No base_url: the document references nothing outside itself.
    return HTML(string=html).write_pdf()
