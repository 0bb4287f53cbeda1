"""The one way services write to the audit log, and the chain that makes it tamper-evident.

Every row stores ``prev_hash`` (the hash of the row before it) and ``hash``, the SHA-256 of
its canonical content including ``prev_hash``. Rows are appended under a lock on the single
``AuditChainHead`` row, which also remembers the last row: changing, deleting or inserting a
row anywhere, or cutting rows off the end, breaks the chain at that row, and
``manage.py verify_audit_chain`` names it.

The lock is held until the writing transaction commits, so audited transactions commit one
after another; audit writes should come after the business row locks (as services already do).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from studiocrm.core.models import AuditChainHead, AuditLog, User

GENESIS = ""
MAX_VALUE_LENGTH = 200


def canonical_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """The data as it reads back from the database (JSON round trip), so the hash written
    and the hash recomputed later agree."""
    return json.loads(json.dumps(data or {}))


def content_hash(
    *,
    prev_hash: str,
    at: datetime.datetime,
    actor_id: int | None,
    actor_label: str,
    verb: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> str:
    """SHA-256 of a row's canonical content: sorted-key JSON, times in UTC to the microsecond."""
    content = {
        "prev_hash": prev_hash,
        "at": at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "verb": verb,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def row_hash(row: Any, prev_hash: str) -> str:
    """The hash ``row`` should carry if ``prev_hash`` is the hash of the row before it."""
    return content_hash(
        prev_hash=prev_hash,
        at=row.at,
        actor_id=row.actor_id,
        actor_label=row.actor_label,
        verb=row.verb,
        object_type=row.object_type,
        object_id=row.object_id,
        data=row.data,
    )


def field_changes(form: forms.BaseForm, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """What a validated form changed, field by field: ``{"name": {"from": …, "to": …}}``,
    values as short plain text (a related object by its name). Call before saving.

    Secret fields go in ``exclude``: the audit log may say that they changed, never to what."""
    result: dict[str, Any] = {}
    for name in form.changed_data:
        if name in exclude:
            result[name] = {"changed": True}
            continue
        field = form.fields[name]
        before = form.get_initial_for_field(field, name)
        if isinstance(field, forms.ModelChoiceField) and not isinstance(before, models.Model):
            # A ModelForm's initial value for a relation is the primary key.
            before = field.queryset.filter(pk=before).first() if before not in (None, "") else None
        result[name] = {"from": _plain(before), "to": _plain(form.cleaned_data.get(name))}
    return result


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | models.QuerySet):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    text = str(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def text_fingerprint(text: str) -> str:
    """A long text (a template's source) in the log: its length and the start of its SHA-256,
    enough to tell versions apart without copying the text."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{len(text)} chars, sha256 {digest}"


def record(
    verb: str, obj: models.Model, *, actor: User | None, data: dict[str, Any] | None = None
) -> AuditLog:
    """Append one row to the audit log, chained to the row before it.

    Never put secrets in ``data``: name the field that changed, not its value."""
    with transaction.atomic():
        head = _lock_head()
        row = AuditLog(
            actor=actor,
            actor_label=str(actor) if actor else "system",
            verb=verb,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            data=canonical_data(data),
            prev_hash=head.last_hash,
        )
        row.hash = row_hash(row, head.last_hash)
        row.save()
        AuditChainHead.objects.filter(pk=head.pk).update(
            last_id=row.pk, last_hash=row.hash, length=models.F("length") + 1
        )
    return row


def append_rows(rows: list[AuditLog]) -> list[AuditLog]:
    """Append rows made elsewhere (history brought in by an import or the demo, with their
    own ``at``) to the chain, in the given order, in one bulk insert under the head's lock."""
    if not rows:
        return rows
    with transaction.atomic():
        head = _lock_head()
        previous = head.last_hash
        for row in rows:
            row.data = canonical_data(row.data)
            row.actor_label = row.actor_label or (str(row.actor) if row.actor_id else "system")
            row.prev_hash = previous
            row.hash = previous = row_hash(row, previous)
        AuditLog.objects.bulk_create(rows, batch_size=1000)
        last_id = rows[-1].pk or AuditLog.objects.order_by("-id").values_list("id", flat=True)[0]
        AuditChainHead.objects.filter(pk=head.pk).update(
            last_id=last_id, last_hash=previous, length=models.F("length") + len(rows)
        )
    return rows


def _lock_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # A database emptied by a test flush: start the chain again from the last row.
        last = AuditLog.objects.order_by("-id").first()
        AuditChainHead.objects.get_or_create(
            pk=1,
            defaults={
                "last_id": last.pk if last else None,
                "last_hash": last.hash if last else GENESIS,
                "length": AuditLog.objects.count(),
            },
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


@dataclass(frozen=True)
class ChainProblem:
    row_id: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_hash: str
    problem: ChainProblem | None


def verify_chain(chunk_size: int = 2000) -> ChainReport:
    """Walk the whole log in id order and return the first break, if any."""
    expected_prev = GENESIS
    count = 0
    previous_id: int | None = None
    for row in _rows(chunk_size):
        count += 1
        if row.prev_hash != expected_prev:
            where = f"row #{previous_id}" if previous_id else "the start of the log"
            return ChainReport(
                count,
                expected_prev,
                ChainProblem(
                    row.pk,
                    f"row #{row.pk} does not follow {where}: a row before it was deleted, "
                    "inserted or changed",
                ),
            )
        if row_hash(row, row.prev_hash) != row.hash:
            return ChainReport(
                count,
                expected_prev,
                ChainProblem(row.pk, f"row #{row.pk} was changed after it was written"),
            )
        expected_prev = row.hash
        previous_id = row.pk
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if count:
            return ChainReport(count, expected_prev, ChainProblem(None, "the chain head is gone"))
        return ChainReport(0, GENESIS, None)
    if head.last_id != previous_id or head.last_hash != expected_prev or head.length != count:
        return ChainReport(
            count,
            expected_prev,
            ChainProblem(
                previous_id,
                f"the log ends at row #{previous_id} ({count} rows) but the chain head says "
                f"#{head.last_id} ({head.length} rows): rows were cut off the end or added "
                "outside the chain",
            ),
        )
    return ChainReport(count, expected_prev, None)


def _rows(chunk_size: int) -> Iterator[AuditLog]:
    last_id = 0
    while True:
        chunk = list(AuditLog.objects.filter(pk__gt=last_id).order_by("pk")[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].pk
