"""The owner's import pages (upload → mapping → check → import) and the exports."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from studiocrm.clients.models import Client
from studiocrm.deals.models import Deal
from studiocrm.transfer.models import ImportJob
from tests.factories import ClientFactory, ContactFactory, DealFactory

CSV = "Название сделки;Этап сделки;Бюджет;Компания;Email\nСайт;Переговоры;1000;ООО А;a@a.test\n"


def test_owner_uploads_maps_checks_and_imports(owner_client):
    response = owner_client.post(
        "/transfer/", {"file": SimpleUploadedFile("deals.csv", CSV.encode("cp1251"))}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/transfer/jobs/{job.pk}/"
    page = owner_client.get(response.url)
    assert page.status_code == 200
    assert "Переговоры" in page.content.decode()
    form = {f"column-{index}": field for index, field in job.mapping.items()}
    form |= {"stage-name-0": "Переговоры", "stage-0": "proposal_sent"}
    assert owner_client.post(response.url, form).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED
    assert job.report["counts"]["deals_created"] == 1
    assert not Deal.objects.exists()
    owner_client.post(f"/transfer/jobs/{job.pk}/confirm/")
    deal = Deal.objects.get()
    assert deal.stage_id == "proposal_sent" and deal.client.name == "ООО А"
    status = owner_client.get(f"/transfer/jobs/{job.pk}/status/")
    assert "hx-get" not in status.content.decode()


def test_a_garbage_upload_is_refused_on_the_page(owner_client):
    response = owner_client.post(
        "/transfer/", {"file": SimpleUploadedFile("x.csv", b"\x00\x01\x02" * 100)}
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_two_columns_for_one_field_are_refused(owner_client, owner):
    owner_client.post("/transfer/", {"file": SimpleUploadedFile("d.csv", CSV.encode())})
    job = ImportJob.objects.get()
    response = owner_client.post(
        f"/transfer/jobs/{job.pk}/", {"column-0": "deal_title", "column-1": "deal_title"}
    )
    assert response.status_code == 400
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_managers_cannot_import_or_export(manager_client):
    assert manager_client.get("/transfer/").status_code == 403
    assert manager_client.get("/transfer/export/deals.csv").status_code == 403
    response = manager_client.post(
        "/transfer/", {"file": SimpleUploadedFile("d.csv", CSV.encode())}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_csv_export_defuses_formulas_and_imports_back(owner_client, owner):
    client = ClientFactory(name='=HYPERLINK("http://evil.test")', tax_id="")
    ContactFactory(client=client, name="@SUM(A1)", email="x@x.test", phone="+7 999 000-00-00")
    response = owner_client.get("/transfer/export/clients.csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.test")'
    assert rows[1][2] == "'@SUM(A1)"
    assert rows[1][5] == "'+7 999 000-00-00"
    # The export imports back to the same values (the apostrophes come off).
    Client.objects.all().delete()
    owner_client.post("/transfer/", {"file": SimpleUploadedFile("c.csv", body.encode())})
    job = ImportJob.objects.get()
    owner_client.post(
        f"/transfer/jobs/{job.pk}/", {f"column-{i}": f for i, f in job.mapping.items()}
    )
    owner_client.post(f"/transfer/jobs/{job.pk}/confirm/")
    assert Client.objects.get().name == '=HYPERLINK("http://evil.test")'


def test_xlsx_export_writes_formula_looking_text_as_text(owner_client):
    DealFactory(title="=1+1")
    response = owner_client.get("/transfer/export/deals.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=2, column=1)
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_history_export_lists_every_stage_change(owner_client):
    deal = DealFactory()
    from studiocrm.deals.services import move_deal

    move_deal(deal, "brief_sent", actor=None)
    response = owner_client.get("/transfer/export/history.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))
    assert [row[3] for row in rows[1:] if row[1] == str(deal.pk)][-1] == "Brief sent"


def test_the_job_page_polls_while_the_worker_imports(owner_client, owner):
    from django.core.cache import cache

    from studiocrm.transfer import importing

    owner_client.post("/transfer/", {"file": SimpleUploadedFile("d.csv", CSV.encode())})
    job = ImportJob.objects.get()
    job.status = ImportJob.Status.RUNNING
    job.save()
    cache.set(importing.progress_key(job.pk), [40, 100])
    body = owner_client.get(f"/transfer/jobs/{job.pk}/status/").content.decode()
    assert f'hx-get="/transfer/jobs/{job.pk}/status/"' in body
    assert "40 / 100" in body
    # Re-checking or re-importing a running job is refused.
    owner_client.post(f"/transfer/jobs/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and not Deal.objects.exists()


def test_pages_speak_russian(owner_client, owner):
    owner.language = "ru"
    owner.save()
    owner_client.post("/transfer/", {"file": SimpleUploadedFile("d.csv", CSV.encode())})
    job = ImportJob.objects.get()
    body = owner_client.get(f"/transfer/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Что в каждой колонке" in body


def test_a_large_file_is_checked_by_the_worker_and_the_page_reloads_when_done(
    owner_client, owner, monkeypatch, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    from studiocrm.transfer import services
    from studiocrm.transfer.tasks import run_check_task

    monkeypatch.setattr(services, "INLINE_ROWS", 0)
    default_task_backend.clear()
    owner_client.post("/transfer/", {"file": SimpleUploadedFile("d.csv", CSV.encode())})
    job = ImportJob.objects.get()
    form = {f"column-{index}": field for index, field in job.mapping.items()}
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/transfer/jobs/{job.pk}/", form)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKING and job.report == {}
    [queued] = default_task_backend.results
    assert queued.args == [job.pk]
    polled = owner_client.get(f"/transfer/jobs/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert "hx-get" in polled.content.decode() and "HX-Refresh" not in polled
    run_check_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED
    assert job.report["counts"]["deals_created"] == 1
    assert not Deal.objects.exists()
    polled = owner_client.get(f"/transfer/jobs/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"
