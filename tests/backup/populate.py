"""Data with files for the backup tests, run inside ``manage.py shell`` of the app under test:
a studio logo (default storage), client uploads on a brief and PDFs (private storage),
audit rows. Real services where they exist."""

from __future__ import annotations

import hashlib
import time
import uuid

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def files_and_rows(uploads: int = 3) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from studiocrm.briefs import services as briefs
    from studiocrm.briefs.models import BriefTemplate
    from studiocrm.core import audit
    from studiocrm.core.models import Studio, User
    from studiocrm.documents.models import PdfFile
    from tests.factories import DealFactory

    studio = Studio.load()
    studio.logo.save("logo.png", ContentFile(PNG), save=True)
    manager = User.objects.filter(role=User.Role.MANAGER).first() or User.objects.create_user(
        username=f"m{uuid.uuid4().hex[:6]}", password="x-long-password-1", role=User.Role.MANAGER
    )
    deal = DealFactory(manager=manager, title="Backup bakery")
    template = BriefTemplate.objects.get(default_key="corporate", language="en")
    brief = briefs.send_brief(deal, template, actor=manager)
    for index in range(uploads):
        content = PNG + f"upload {index}".encode()
        briefs.attach_file(brief, "brand_files", SimpleUploadedFile(f"p{index}.png", content))
    from studiocrm.documents.services import _new_document

    document = _new_document(deal, kind="proposal", language="en", title="Offer", actor=manager)
    for index in range(2):
        html = f"<p>backup {index} {uuid.uuid4().hex}</p>"
        pdf = PdfFile(
            document=document,
            html=html,
            html_sha256=hashlib.sha256(html.encode()).hexdigest(),
            title="Backup",
            status=PdfFile.Status.READY,
        )
        pdf.file.save("x.pdf", ContentFile(b"%PDF-1.4\n" + html.encode()), save=False)
        pdf.save()
    # Some history in the audit chain.
    for index in range(150):
        audit.record("deal.noted", deal, actor=manager, data={"n": index})


def keep_writing(seconds: float, stop_file: str) -> None:
    """Write audited rows and upload files until ``stop_file`` exists (or ``seconds``)."""
    import os

    from django.core.files.uploadedfile import SimpleUploadedFile

    from studiocrm.briefs import services as briefs
    from studiocrm.briefs.models import Brief
    from studiocrm.clients.models import Client
    from studiocrm.core import audit

    brief = Brief.objects.filter(status="sent").order_by("-pk").first()
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline and not os.path.exists(stop_file):
        client = Client.objects.create(name=f"Concurrent {count}")
        audit.record("client.created", client, actor=None, data={"n": count})
        if brief is not None and count % 3 == 0:
            brief.answers = {**brief.answers, "brand_files": []}
            brief.save(update_fields=["answers"])
            briefs.attach_file(
                brief, "brand_files", SimpleUploadedFile(f"c{count}.png", PNG + str(count).encode())
            )
        count += 1
    print(count)
