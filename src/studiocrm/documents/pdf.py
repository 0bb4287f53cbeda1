"""PDF: the same HTML the client reads, through WeasyPrint, with page numbers and the logo.

A template is studio-written HTML, so the renderer fetches nothing: the only URLs it may load
are ``data:`` URIs (the logo is embedded as one), never files or the network; and it prints
in a child process (``isolation``) with at most ``DOCUMENT_PDF_SECONDS`` of CPU time and
``PDF_MEMORY_BYTES`` more memory, so a document of thousands of paragraphs fails with a
message instead of holding the worker.
"""

from __future__ import annotations

import base64
import errno
import logging
import time
from functools import cache
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from studiocrm.core.models import Studio
from studiocrm.documents import isolation
from studiocrm.documents.models import PdfFile

log = logging.getLogger(__name__)

CSS_PATH = Path(__file__).resolve().parent / "static" / "documents" / "document.css"
LOGO_MAX_BYTES = 2 * 1024 * 1024
PDF_MEMORY_BYTES = 1024 * 1024 * 1024


class PdfProblem(Exception):
    """The PDF cannot be printed; the message is for the document's author."""


LOGO_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


@cache
def document_css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def logo_data_uri(studio: Studio) -> str:
    """The studio's logo as a data: URI (PNG, JPEG, GIF or WebP up to 2 MB), or ""."""
    if not studio.logo:
        return ""
    try:
        with studio.logo.open("rb") as handle:
            data = handle.read(LOGO_MAX_BYTES + 1)
    except (OSError, ValueError):
        return ""
    kind = filetype.guess(data[:8192])
    if len(data) > LOGO_MAX_BYTES or kind is None or kind.extension not in LOGO_TYPES:
        return ""
    return f"data:{LOGO_TYPES[kind.extension]};base64,{base64.b64encode(data).decode('ascii')}"


def print_html(*, title: str, body: str, language: str, footer: str = "") -> str:
    """The full HTML page WeasyPrint prints: styles, the logo header, the document body."""
    studio = Studio.load()
    with translation.override(language):
        return render_to_string(
            "documents/pdf.html",
            {
                "title": title,
                "body": body,
                "css": document_css(),
                "logo": logo_data_uri(studio),
                "studio": studio,
                "footer": footer,
                "language": language,
            },
        )


def write_pdf(html: str) -> tuple[bytes, int]:
    """PDF bytes and page count for a full HTML page, printed in a child process under the
    limits above. Raises PdfProblem."""
    seconds = settings.DOCUMENT_PDF_SECONDS
    limits = isolation.Limits(
        cpu_seconds=seconds, memory_bytes=PDF_MEMORY_BYTES, wall_seconds=2 * seconds + 10
    )
    try:
        return isolation.pool("pdf").run(
            "studiocrm.documents.pdf:write_pdf_here", (html,), limits, language=""
        )
    except isolation.TooSlow:
        raise PdfProblem(
            _(
                "The document is too long to print as a PDF (over %(seconds)s seconds). "
                "Shorten it or split it into several documents."
            )
            % {"seconds": seconds}
        ) from None
    except isolation.TooLarge:
        raise PdfProblem(
            _("The document needs too much memory to print as a PDF. Shorten it.")
        ) from None
    except isolation.IsolationError as error:
        raise PdfProblem(
            _("The PDF could not be printed (%(reason)s).") % {"reason": error.detail}
        ) from None


def write_pdf_here(html: str) -> tuple[bytes, int]:
    """PDF bytes and page count, in this process: the job a child runs. Loads nothing from
    outside."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    return document.write_pdf(), len(document.pages)


def storage_problem(error: OSError) -> str:
    """What the author reads when the printed PDF could not be written."""
    if error.errno == errno.ENOSPC:
        return _(
            "The PDF could not be saved: the server's disk is full. Ask whoever runs the "
            "server to free some space; asking for the PDF again later prints it again."
        )
    return _("The PDF could not be saved (%(reason)s). Asking for it again later retries.") % {
        "reason": error.strerror or type(error).__name__
    }


def render_pdf_file(pdf_id: int) -> str:
    """Render one PdfFile row (the task's body). Idempotent: a ready PDF is left alone."""
    pdf = PdfFile.objects.select_related("document").filter(pk=pdf_id).first()
    if pdf is None:
        return "missing"
    if pdf.status == PdfFile.Status.READY and pdf.file:
        return "ready"
    document = pdf.document
    started = time.monotonic()
    try:
        page = print_html(title=pdf.title, body=pdf.html, language=document.language)
        with translation.override(document.language):
            content, pages = write_pdf(page)
    except PdfProblem as problem:
        log.warning("PDF %s not printed: %s", pdf_id, problem)
        PdfFile.objects.filter(pk=pdf_id).update(
            status=PdfFile.Status.FAILED, error=str(problem)[:2000]
        )
        return "failed"
    except Exception as error:
        log.exception("PDF %s failed", pdf_id)
        PdfFile.objects.filter(pk=pdf_id).update(
            status=PdfFile.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        return "failed"
    elapsed = int((time.monotonic() - started) * 1000)
    storage = pdf.file.storage
    name = pdf.file.field.generate_filename(pdf, f"{pdf.html_sha256}.pdf")
    try:
        # The name is the content's hash: a file already there is this PDF, stored by a
        # worker that died before recording it, and is taken as it is (never a second copy).
        if not storage.exists(name):
            name = storage.save(name, ContentFile(content))
    except OSError as error:
        log.warning("PDF %s not stored: %s", pdf_id, error)
        PdfFile.objects.filter(pk=pdf_id).update(
            status=PdfFile.Status.FAILED, error=storage_problem(error)[:2000]
        )
        return "failed"
    PdfFile.objects.filter(pk=pdf_id).update(
        file=name,
        status=PdfFile.Status.READY,
        rendered_at=timezone.now(),
        render_ms=elapsed,
        pages=pages,
        error="",
    )
    return "ready"
