"""What a document page shows, shared by the client's page and the manager's pages: which
HTML (the accepted revision or the live draft), the fingerprint to accept, the certificate,
and PDF downloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import slugify

from studiocrm.documents import sandbox, services
from studiocrm.documents.models import Acceptance, Document, PdfFile, Revision
from studiocrm.documents.rendering import fingerprint_of, render_document, sha256_text
from studiocrm.portal.files import attachment_response


@dataclass
class PageState:
    html: str
    fingerprint: str
    revision: Revision | None  # the frozen revision the HTML is, if it is one
    acceptance: Acceptance | None  # the latest acceptance (of this or an earlier version)
    needs_acceptance: bool
    problem: sandbox.TemplateProblem | None = None

    @property
    def showing_accepted(self) -> bool:
        return (
            self.acceptance is not None
            and self.revision is not None
            and self.acceptance.revision_id == self.revision.pk
        )


def page_state(document: Document) -> PageState:
    """The accepted revision while the document stays accepted; otherwise the live draft."""
    acceptance = services.latest_acceptance(document)
    if document.status == Document.Status.ACCEPTED and acceptance is not None:
        return PageState(
            html=acceptance.revision.html,
            fingerprint=acceptance.revision.fingerprint,
            revision=acceptance.revision,
            acceptance=acceptance,
            needs_acceptance=False,
        )
    try:
        rendered = render_document(document)
    except sandbox.TemplateProblem as problem:
        return PageState("", "", None, acceptance, False, problem)
    revision = (
        Revision.objects.filter(document=document, fingerprint=rendered.fingerprint)
        .order_by("-number")
        .first()
    )
    return PageState(
        html=rendered.html,
        fingerprint=rendered.fingerprint,
        revision=revision,
        acceptance=acceptance,
        needs_acceptance=document.needs_acceptance,
    )


def _filename(title: str) -> str:
    return f"{slugify(title, allow_unicode=True)[:80] or 'document'}.pdf"


def pdf_download(
    request: HttpRequest,
    document: Document,
    *,
    html: str,
    title: str,
    revision: Revision | None = None,
) -> HttpResponse:
    """The cached PDF of this HTML, or a "preparing…" page that polls until it is ready."""
    pdf = services.request_pdf(document, html=html, title=title, revision=revision)
    ready = pdf.status == PdfFile.Status.READY and bool(pdf.file)
    if getattr(request, "htmx", False):
        # The "preparing…" page polls; once ready, send the browser to the download.
        response = render(request, "documents/_pdf_status.html", {"pdf": pdf, "ready": ready})
        if ready:
            response["HX-Redirect"] = request.get_full_path()
        return response
    if ready:
        return attachment_response(
            pdf.file.name,
            pdf.file.storage,
            filename=_filename(title),
            content_type="application/pdf",
        )
    return render(
        request,
        "documents/pdf_wait.html",
        {"pdf": pdf, "title": title, "document": document},
        status=202 if pdf.status == PdfFile.Status.PENDING else 200,
    )


def raw_download(revision: Revision, part: str) -> HttpResponse:
    """The exact bytes a revision's hashes are computed over, for anyone to recompute."""
    if part == "html":
        body, name, kind = revision.html, f"revision-{revision.number}.html", "text/plain"
    else:
        body, name, kind = (
            revision.context,
            f"revision-{revision.number}-context.json",
            "application/json",
        )
    response = HttpResponse(body.encode("utf-8"), content_type=f"{kind}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def certificate_context(acceptance: Acceptance) -> dict[str, Any]:
    """The signature record and a fresh recomputation of every hash it refers to."""
    revision = acceptance.revision
    html_sha256 = sha256_text(revision.html)
    context_sha256 = sha256_text(revision.context)
    fingerprint = fingerprint_of(html_sha256, context_sha256)
    record_sha256 = sha256_text(acceptance.record)
    checks = {
        "html": html_sha256 == revision.html_sha256,
        "context": context_sha256 == revision.context_sha256,
        "fingerprint": fingerprint == revision.fingerprint == acceptance.revision_fingerprint,
        "record": record_sha256 == acceptance.record_sha256,
    }
    return {
        "acceptance": acceptance,
        "revision": revision,
        "document": acceptance.document,
        "record": json.loads(acceptance.record),
        "record_json": acceptance.record,
        "computed": {
            "html_sha256": html_sha256,
            "context_sha256": context_sha256,
            "fingerprint": fingerprint,
            "record_sha256": record_sha256,
        },
        "checks": checks,
        "verified": all(checks.values()),
    }


def certificate_html(acceptance: Acceptance) -> tuple[str, str]:
    """The certificate as a document body (for its PDF) and its title."""
    context = certificate_context(acceptance)
    html = render_to_string("documents/_certificate.html", {**context, "for_pdf": True})
    from django.utils.translation import gettext as _

    title = _("Acceptance certificate: %(title)s, version %(number)s") % {
        "title": acceptance.document.title,
        "number": acceptance.revision.number,
    }
    return html, title
