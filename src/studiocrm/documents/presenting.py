"""What a document page shows, shared by the client's page and the manager's pages: which
HTML (the accepted revision or the live draft), the fingerprint to accept, the certificate,
and PDF downloads."""

from __future__ import annotations

import functools
import hmac
import json
import operator
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.text import slugify

from studiocrm.briefs.public import Brief
from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal
from studiocrm.documents import estimate_data, rendering, sandbox, services
from studiocrm.documents.context import (
    CLIENT_FIELDS,
    CONTACT_FIELDS,
    DEAL_FIELDS,
    MANAGER_FIELDS,
    build_context,
)
from studiocrm.documents.models import Acceptance, Document, Kind, PdfFile, Revision
from studiocrm.documents.rendering import fingerprint_of, sha256_text
from studiocrm.estimates.public import Estimate
from studiocrm.portal.files import attachment_response
from studiocrm.portal.links import hash_token, plausible_token

# Bump when the context shape or the rendering changes, so a shared cache (Redis) never
# serves a page rendered by older code.
DRAFT_CACHE_VERSION = "1"
DRAFT_CACHE_SECONDS = 3600
_NOT_INPUTS = {"view_count", "first_viewed_at", "last_viewed_at", "token_hash", "token_salt"}


@dataclass
class PageState:
    html: str
    fingerprint: str
    revision: Revision | None  # the frozen revision the HTML is, if it is one
    acceptance: Acceptance | None  # the latest acceptance (of this or an earlier version)
    needs_acceptance: bool
    problem: sandbox.TemplateProblem | None = None
    picker: dict[str, Any] | None = None  # proposals awaiting acceptance: options as offered
    key: str = ""  # changes whenever what the page shows changes ("" for a broken template)

    @property
    def showing_accepted(self) -> bool:
        return (
            self.acceptance is not None
            and self.revision is not None
            and self.acceptance.revision_id == self.revision.pk
        )


def picker_data(
    deal_estimate: estimate_data.DealEstimate, selection: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Options and optional lines for the proposal picker, priced on the server."""
    offered = deal_estimate.offered()
    if offered is None:
        return None
    clean = deal_estimate.clean_selection(selection)
    return {
        "options": offered["options"],
        "selection": clean,
        "chosen": deal_estimate.chosen(clean),
        "currency": offered["currency"],
        "has_tax": offered["has_tax"],
        "tax_included": offered["tax_included"],
    }


@functools.cache
def _input_fields(model: type) -> tuple[tuple[str, ...], Any]:
    """A model's input field names (not the view count or the token), and one C-level
    getter of their values as a tuple."""
    names = tuple(
        field.attname
        for field in model._meta.concrete_fields  # type: ignore[attr-defined]
        if field.attname not in _NOT_INPUTS
    )
    getter = operator.attrgetter(*names)
    return names, (getter if len(names) > 1 else lambda instance: (getter(instance),))


def studio_values(studio: Studio) -> tuple[Any, ...]:
    """The studio's field values ``_row`` reads, without their names."""
    return _input_fields(type(studio))[1](studio)


def _row(instance: Any) -> tuple[Any, ...]:
    if instance is None:
        return ()
    names, values = _input_fields(type(instance))
    return tuple(zip(names, values(instance), strict=True))


@dataclass(frozen=True)
class Stamps:
    """Everything besides the document row and the studio that a draft depends on, read in
    one query: the context's fields of the deal, client, contact and manager, the contract
    an appendix or act belongs to, the versions of the estimate and the brief in use."""

    related: tuple[Any, ...]
    estimate: tuple[Any, Any]  # (id, updated_at) of the saved estimate in use
    brief: tuple[Any, Any]  # (id, submitted_at) of the submitted brief in use
    acceptance_id: int | None  # the latest acceptance (acceptances never change)
    # The latest acceptance of any document of the deal: whose name and email the client's
    # forms offer (with the contact's fields in `related`, all the page's signer depends on).
    deal_acceptance_id: int | None = None


def _columns(model: Any, alias: str, names: tuple[str, ...]) -> list[str]:
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(model._meta.get_field(name).column)}" for name in names]


def _stamps_sql(select_document: str, where: str) -> tuple[str, int]:
    """The stamps query: ``select_document`` columns of the document row (``doc``) first,
    then the stamps; rows chosen by ``where``. Returns the SQL and the count of related
    columns. Its parameters: the estimate's and the brief's status (``_STATUSES``), then
    those of ``where``."""
    quote = connection.ops.quote_name

    def table(model: Any) -> str:
        return quote(model._meta.db_table)

    # The saved estimate and the submitted brief in use, each joined by the id of the latest
    # (one subquery each, not one per column read from it).
    latest_estimate = (
        f"(SELECT {quote('id')} FROM {table(Estimate)} WHERE {quote('deal_id')} = d.{quote('id')} "  # noqa: S608
        f"AND {quote('status')} = %s ORDER BY {quote('saved_at')} DESC, {quote('id')} DESC "
        "LIMIT 1)"
    )
    latest_brief = (
        f"(SELECT {quote('id')} FROM {table(Brief)} WHERE {quote('deal_id')} = d.{quote('id')} "  # noqa: S608
        f"AND {quote('status')} = %s ORDER BY {quote('submitted_at')} DESC, {quote('id')} DESC "
        "LIMIT 1)"
    )
    related = [
        *_columns(Deal, "d", ("client", "contact", "manager", *DEAL_FIELDS)),
        *_columns(Client, "c", CLIENT_FIELDS),
        *_columns(Contact, "ct", CONTACT_FIELDS),
        *_columns(User, "u", MANAGER_FIELDS),
        *_columns(Document, "p", ("number", "number_year", "issued_on", "title")),
    ]
    stamps = [
        *related,
        f"e.{quote('id')}",
        f"e.{quote('updated_at')}",
        f"b.{quote('id')}",
        f"b.{quote('submitted_at')}",
        f"(SELECT {quote('id')} FROM {table(Acceptance)} WHERE {quote('document_id')} = "  # noqa: S608
        f"doc.{quote('id')} ORDER BY {quote('accepted_at')} DESC, {quote('id')} DESC LIMIT 1)",
        f"(SELECT a.{quote('id')} FROM {table(Acceptance)} a "  # noqa: S608
        f"JOIN {table(Document)} dd ON dd.{quote('id')} = a.{quote('document_id')} "
        f"WHERE dd.{quote('deal_id')} = d.{quote('id')} "
        f"ORDER BY a.{quote('accepted_at')} DESC, a.{quote('id')} DESC LIMIT 1)",
    ]
    # Named columns, so the document's own columns and the stamps never share a name.
    aliased = [f"{column} AS {quote(f'stamp_{index}')}" for index, column in enumerate(stamps)]
    # Only quoted table and column names from the models go into the text; values are
    # parameters.
    sql = (
        f"SELECT {', '.join([*([select_document] if select_document else []), *aliased])} "  # noqa: S608
        f"FROM {table(Document)} doc "
        f"JOIN {table(Deal)} d ON d.{quote('id')} = doc.{quote('deal_id')} "
        f"JOIN {table(Client)} c ON c.{quote('id')} = d.{quote('client_id')} "
        f"LEFT JOIN {table(Contact)} ct ON ct.{quote('id')} = d.{quote('contact_id')} "
        f"LEFT JOIN {table(User)} u ON u.{quote('id')} = d.{quote('manager_id')} "
        f"LEFT JOIN {table(Document)} p ON p.{quote('id')} = doc.{quote('parent_id')} "
        f"LEFT JOIN {table(Estimate)} e ON e.{quote('id')} = {latest_estimate} "
        f"LEFT JOIN {table(Brief)} b ON b.{quote('id')} = {latest_brief} "
        f"WHERE {where}"
    )
    return sql, len(related)


_STATUSES = [Estimate.Status.SAVED.value, Brief.Status.SUBMITTED.value]


def _stamps_from(row: Any, count: int) -> Stamps:
    return Stamps(
        related=tuple(row[:count]),
        estimate=(row[count], row[count + 1]),
        brief=(row[count + 2], row[count + 3]),
        acceptance_id=row[count + 4],
        deal_acceptance_id=row[count + 5],
    )


def page_stamps(document: Document) -> Stamps:
    """The stamps in one query with no ORM compilation: every reload of the client's page
    reads them, so they decide what a reload costs. The estimate and brief are picked in the
    order ``estimate_data`` and ``briefs.services`` pick them. ``find_for_page`` reads them
    with the document itself."""
    sql, count = _stamps_sql("", f"doc.{connection.ops.quote_name('id')} = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_STATUSES, document.pk])
        row = cursor.fetchone()
    return _stamps_from(row, count)


@functools.cache
def _page_query(vendor: str) -> tuple[str, int, tuple[Any, ...]]:
    """The token lookup's SQL, its count of related stamps and, per document column, the
    field and the converters that turn the database value into the field's value (as the
    ORM's compiler would). Built once per process: it depends only on the models."""
    fields = Document._meta.concrete_fields
    columns = ", ".join(f"doc.{connection.ops.quote_name(field.column)}" for field in fields)
    sql, count = _stamps_sql(columns, f"doc.{connection.ops.quote_name('token_hash')} = %s")
    converters = []
    for field in fields:
        expression = field.get_col("doc")
        converters.append(
            (
                expression,
                tuple(
                    connection.ops.get_db_converters(expression)
                    + expression.get_db_converters(connection)
                ),
            )
        )
    return sql, count, tuple(converters)


def find_for_page(token: str) -> Document | None:
    """``Document.find_by_token`` for the client's page, with the page's stamps read in the
    same query, as ``document.page_stamps`` (as read with the row, for this request only),
    and the raw row as ``document.page_row``: a reload of the page is one query, and no ORM
    query is compiled for it."""
    if not plausible_token(token):
        return None
    wanted = hash_token(token)
    sql, count, converters = _page_query(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_STATUSES, wanted])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (expression, functions) in zip(row, converters, strict=False):
        for function in functions:
            value = function(value, expression, connection)
        values.append(value)
    found = Document.from_db(
        connection.alias, [field.attname for field in Document._meta.concrete_fields], values
    )
    if not hmac.compare_digest(found.token_hash, wanted) or not found.link_is_usable:
        return None
    found.page_stamps = _stamps_from(row[len(converters) :], count)
    # The row as the database returned it: the document and its stamps in one hashable tuple,
    # what the client page's key is made from (see client_views.page).
    found.page_row = tuple(row)
    return found


def draft_inputs_key(document: Document, stamps: Stamps, studio: Studio | None = None) -> str:
    """A cache key that changes whenever anything the draft is made from changes: the
    document row, the studio and the stamps (the context's fields of the deal, client,
    contact and manager, the contract, the saved estimate, whose services bump
    ``updated_at`` on every change, and the submitted brief)."""
    inputs = (
        DRAFT_CACHE_VERSION,
        _row(document),
        stamps.related,
        _row(studio or Studio.load()),
        stamps.estimate,
        stamps.brief,
    )
    return f"documents:draft:{document.pk}:{sha256_text(repr(inputs))}"


def state_key(document: Document, stamps: Stamps, studio: Studio | None = None) -> str:
    """Changes whenever what ``page_state`` returns would change."""
    if document.status == Document.Status.ACCEPTED and stamps.acceptance_id is not None:
        return f"accepted:{stamps.acceptance_id}"
    return f"draft:{draft_inputs_key(document, stamps, studio)}:{stamps.acceptance_id}"


def page_state(
    document: Document, studio: Studio | None = None, stamps: Stamps | None = None
) -> PageState:
    """The accepted revision while the document stays accepted; otherwise the live draft.

    The draft's rendering is cached under ``draft_inputs_key``, so reloading an unchanged
    document skips building the context and the sandboxed render; any edit changes the key,
    so the client still sees it on the next reload. Acceptance never uses the cache: it
    renders again under the document's lock.
    """
    stamps = stamps or page_stamps(document)
    acceptance = (
        Acceptance.objects.select_related("revision").get(pk=stamps.acceptance_id)
        if stamps.acceptance_id
        else None
    )
    if document.status == Document.Status.ACCEPTED and acceptance is not None:
        return PageState(
            html=acceptance.revision.html,
            fingerprint=acceptance.revision.fingerprint,
            revision=acceptance.revision,
            acceptance=acceptance,
            needs_acceptance=False,
            key=state_key(document, stamps),
        )
    key = draft_inputs_key(document, stamps, studio)
    bundle = cache.get(key)
    if bundle is None:
        deal_estimate = estimate_data.DealEstimate(document.deal, document.language)
        try:
            rendered = rendering.render(
                document.source, build_context(document, loaded=deal_estimate)
            )
        except sandbox.TemplateProblem as problem:
            return PageState("", "", None, acceptance, False, problem)
        revision = (
            Revision.objects.filter(document=document, fingerprint=rendered.fingerprint)
            .order_by("-number")
            .values_list("pk", "number")
            .first()
        )
        bundle = {
            "html": rendered.html,
            "fingerprint": rendered.fingerprint,
            "revision": revision,
            "picker": picker_data(deal_estimate, None) if document.kind == Kind.PROPOSAL else None,
        }
        cache.set(key, bundle, DRAFT_CACHE_SECONDS)
    revision_pk, revision_number = bundle["revision"] or (None, None)
    return PageState(
        html=bundle["html"],
        fingerprint=bundle["fingerprint"],
        # Only its id and number are needed (to show "version N", to link the PDF row).
        revision=Revision(pk=revision_pk, number=revision_number, document=document)
        if revision_pk
        else None,
        acceptance=acceptance,
        needs_acceptance=document.needs_acceptance,
        picker=bundle["picker"],
        key=state_key(document, stamps, studio),
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
    """The signature record and a fresh recomputation of every hash it refers to.

    A record covers one document (``document``/``revision``) or, for a contract signed with
    its appendices in one act, several (``documents``: [{document, revision}, ...]); every
    part's frozen revision is re-hashed."""
    record = json.loads(acceptance.record)
    listed = record.get("documents") or [
        {"document": record.get("document", {}), "revision": record.get("revision", {})}
    ]
    frozen = {
        (revision.document_id, revision.number): revision
        for revision in Revision.objects.filter(
            document_id__in=[part["document"].get("id") for part in listed]
        )
    }
    parts = []
    for part in listed:
        said = part["revision"]
        revision = frozen.get((part["document"].get("id"), said.get("number")))
        html_sha256 = sha256_text(revision.html) if revision else ""
        context_sha256 = sha256_text(revision.context) if revision else ""
        fingerprint = fingerprint_of(html_sha256, context_sha256)
        checks = {
            "html": revision is not None and html_sha256 == said.get("html_sha256"),
            "context": revision is not None and context_sha256 == said.get("context_sha256"),
            "fingerprint": revision is not None
            and fingerprint == said.get("fingerprint") == revision.fingerprint,
        }
        parts.append(
            {
                "document": part["document"],
                "revision": said,
                "computed": {
                    "html_sha256": html_sha256,
                    "context_sha256": context_sha256,
                    "fingerprint": fingerprint,
                },
                "checks": checks,
            }
        )
    record_sha256 = sha256_text(acceptance.record)
    own = acceptance.revision
    checks = {
        "parts": all(all(part["checks"].values()) for part in parts),
        "own": any(
            part["document"].get("id") == acceptance.document_id
            and part["revision"].get("fingerprint") == own.fingerprint
            for part in parts
        )
        and own.fingerprint == acceptance.revision_fingerprint,
        "record": record_sha256 == acceptance.record_sha256,
    }
    return {
        "acceptance": acceptance,
        "revision": own,
        "document": acceptance.document,
        "record": record,
        "record_json": acceptance.record,
        "parts": parts,
        "computed": {"record_sha256": record_sha256},
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


def client_page_queryset() -> Any:
    """Documents as the client's pages look them up: the row alone; a reload reads the rest
    with ``page_stamps``, and only a first render loads the related objects."""
    return Document.objects.all()
