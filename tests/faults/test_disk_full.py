"""Disk full while writing a PDF or a client's upload, on a real full filesystem (a tiny
tmpfs, filled up): a clear message, no half-written file left anywhere, nothing referencing
a file that is not there, the contract number not taken again; once space is freed, asking
again works and stores the file once."""

from __future__ import annotations

import datetime

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefFile, BriefTemplate
from studiocrm.core.models import Sequence
from studiocrm.documents import pdf as pdf_module
from studiocrm.documents.models import PdfFile

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20_000


def test_a_pdf_on_a_full_disk_fails_clearly_and_prints_once_when_space_is_back(
    settings, tiny_disk, sent_contract, manager_client
):
    settings.PRIVATE_ROOT = tiny_disk.path
    number = (sent_contract.number, sent_contract.number_year)
    sequences = list(Sequence.objects.values_list("series", "year", "last_value"))
    pdf = PdfFile.objects.get(document=sent_contract)
    tiny_disk.fill(leave_bytes=2048)

    assert pdf_module.render_pdf_file(pdf.pk) == "failed"
    pdf.refresh_from_db()
    assert pdf.status == PdfFile.Status.FAILED
    assert "disk is full" in pdf.error
    assert not pdf.file
    assert tiny_disk.files() == []  # no half-written PDF, no temporary file

    # The manager asking for it reads why.
    page = manager_client.get(reverse("documents:pdf", args=[sent_contract.pk]))
    assert page.status_code == 200
    assert "disk is full" in page.content.decode()

    # Space comes back; asking again later prints it again — once, under its one name.
    tiny_disk.free()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        waiting = manager_client.get(reverse("documents:pdf", args=[sent_contract.pk]))
    assert waiting.status_code == 202
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    pdf.refresh_from_db()
    assert tiny_disk.files() == [pdf.file.name]
    download = manager_client.get(reverse("documents:pdf", args=[sent_contract.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    sent_contract.refresh_from_db()
    assert (sent_contract.number, sent_contract.number_year) == number
    assert list(Sequence.objects.values_list("series", "year", "last_value")) == sequences


def test_an_upload_on_a_full_disk_is_refused_clearly_and_leaves_nothing(
    settings, tiny_disk, deal, manager, anonymous_client
):
    settings.PRIVATE_ROOT = tiny_disk.path
    template = BriefTemplate.objects.get(default_key="corporate", language="en")
    brief = brief_services.send_brief(deal, template, actor=manager)
    token = brief.link_token()
    url = reverse("briefs_client:brief_upload", args=[token])
    tiny_disk.fill(leave_bytes=4096)

    response = anonymous_client.post(
        url, {"key": "brand_files", "file_brand_files": SimpleUploadedFile("logo.png", PNG)}
    )
    assert response.status_code == 422
    assert "out of space" in response.content.decode()
    assert not BriefFile.objects.filter(brief=brief).exists()
    brief.refresh_from_db()
    assert not brief.answers.get("brand_files")
    assert tiny_disk.files() == []

    tiny_disk.free()
    response = anonymous_client.post(
        url, {"key": "brand_files", "file_brand_files": SimpleUploadedFile("logo.png", PNG)}
    )
    assert response.status_code == 200
    stored = BriefFile.objects.get(brief=brief)
    assert tiny_disk.files() == [stored.file.name]
    assert (tiny_disk.path / stored.file.name).read_bytes() == PNG
