"""Rendering a document: its template source + its context → HTML, with the hashes a
revision and a signature refer to."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studiocrm.documents import sandbox
from studiocrm.documents.context import build_context, canonical_json
from studiocrm.documents.models import Document


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_of(html_sha256: str, context_sha256: str) -> str:
    """The one hash a signature refers to: SHA-256 of "<html hash>\\n<context hash>\\n".

    Anyone can recompute it: ``printf '%s\\n%s\\n' HTML_HASH CONTEXT_HASH | sha256sum``.
    """
    return sha256_text(f"{html_sha256}\n{context_sha256}\n")


@dataclass(frozen=True)
class Rendered:
    html: str
    context: dict[str, Any]
    context_json: str
    html_sha256: str
    context_sha256: str

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.html_sha256, self.context_sha256)


def render(source: str, context: Mapping[str, Any]) -> Rendered:
    """Render source against a context. Raises sandbox.TemplateProblem for a bad template."""
    html = sandbox.render_source(source, context)
    context_json = canonical_json(context)
    return Rendered(
        html=html,
        context=dict(context),
        context_json=context_json,
        html_sha256=sha256_text(html),
        context_sha256=sha256_text(context_json),
    )


def render_document(document: Document, *, source: str | None = None) -> Rendered:
    """The document as it stands now (its draft): its own source against the deal's data."""
    return render(document.source if source is None else source, build_context(document))
