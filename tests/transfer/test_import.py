"""Import: peers' exports in their encodings, mapping, dry run, the all-or-nothing import."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from studiocrm.clients.models import Client, Contact
from studiocrm.deals.models import Deal, Event, Note, StageChange
from studiocrm.flow.models import Timer
from studiocrm.notifications.models import Outbox
from studiocrm.transfer import services
from studiocrm.transfer.models import ImportJob
from studiocrm.transfer.reading import UnreadableFile, read_table
from tests.factories import ClientFactory, ContactFactory

BITRIX = (
    "Название сделки;Стадия сделки;Сумма;Валюта;Ответственный;Дата создания;Компания;Контакт;"
    "Телефон;Email;Комментарий\n"
    "Сайт для пекарни;Успешно реализовано;150 000,00;RUB;Manager Person;05.03.2025 10:15:00;"
    "ООО Булка;Иван Петров;+7 (999) 123-45-67;ivan@bulka.test;Звонил сам\n"
    "Лендинг;Новая;50000;RUB;;06.03.2025;ООО Булка;Иван Петров;8 999 123 45 67;;\n"
    "Магазин;Сделка провалена;1 000 000;RUB;;07.03.2025;ИП Сидоров;;;sidorov@shop.test;\n"
    "Плохая строка;Новая;много;RUB;;вчера;;;;;\n"
)

AMO = (
    '"Название сделки","Этап сделки","Бюджет","Ответственный","Дата создания","Компания",'
    '"Контакт","Телефон","Email"\n'
    '"Корпоративный сайт","Переговоры","250000","manager","2025-01-10 09:00:00","АО Ромашка",'
    '"Мария","+79001112233","maria@romashka.test"\n'
)


def upload(owner, name, raw):
    return services.create_job(name, raw, actor=owner)


def check(job, owner, stages=None):
    names = services.stage_names(job, services.load_table(job))
    from studiocrm.deals.models import Stage
    from studiocrm.transfer.mapping import guess_stage

    all_stages = list(Stage.objects.all())
    mapping = stages or {name: guess_stage(name, all_stages) for name in names}
    return services.check(job, job.mapping, mapping, actor=owner)


def test_bitrix_export_in_cp1251_is_read_and_mapped_by_its_headers(owner):
    job = upload(owner, "deals.csv", BITRIX.encode("cp1251"))
    assert job.encoding == "cp1251"
    assert job.delimiter == ";"
    assert job.row_count == 4
    assert set(job.mapping.values()) == {
        "deal_title",
        "deal_stage",
        "deal_amount",
        "deal_currency",
        "deal_manager",
        "deal_created",
        "client_name",
        "contact_name",
        "contact_phone",
        "contact_email",
        "deal_notes",
    }


def test_amocrm_export_in_utf8_with_bom_is_read(owner):
    job = upload(owner, "amo.csv", b"\xef\xbb\xbf" + AMO.encode())
    assert job.encoding == "utf-8-bom"
    assert job.delimiter == ","
    assert job.headers[0] == "Название сделки"
    assert job.mapping["2"] == "deal_amount"


def test_dry_run_shows_what_happens_and_saves_nothing(owner, manager):
    manager.first_name, manager.last_name = "Manager", "Person"
    manager.save()
    job = check(upload(owner, "deals.csv", BITRIX.encode("cp1251")), owner)
    counts = job.report["counts"]
    assert job.status == ImportJob.Status.CHECKED
    assert counts["rows"] == 4
    assert counts["deals_created"] == 3
    assert counts["clients_created"] == 2  # the two rows of ООО Булка make one client
    assert counts["contacts_created"] == 2  # Иван by phone once, sidorov by email
    assert counts["errors"] == 1
    bad = next(row for row in job.report["rows"] if row["number"] == 5)
    assert bad["action"] == "skip"
    assert any("много" in error for error in bad["errors"])
    assert any("вчера" in error for error in bad["errors"])
    assert not Deal.objects.exists() and not Client.objects.exists()


def test_import_creates_everything_in_one_go_without_letters_or_automation(owner, manager):
    manager.first_name, manager.last_name = "Manager", "Person"
    manager.save()
    job = check(upload(owner, "deals.csv", BITRIX.encode("cp1251")), owner)
    assert services.confirm(job, actor=owner) is True
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    deals = {deal.title: deal for deal in Deal.objects.select_related("client", "contact")}
    assert set(deals) == {"Сайт для пекарни", "Лендинг", "Магазин"}
    bakery = deals["Сайт для пекарни"]
    assert bakery.stage_id == "paid" and bakery.closed_at is not None
    assert bakery.expected_amount == Decimal("150000.00")
    assert bakery.manager == manager
    assert bakery.client.name == "ООО Булка"
    assert bakery.contact.phone_normalized == "+79991234567"
    assert deals["Лендинг"].contact == bakery.contact
    assert deals["Магазин"].stage_id == "lost" and deals["Магазин"].lost_reason
    assert bakery.intake_key == f"import:{job.pk}:2"
    assert Note.objects.get(deal=bakery).text == "Звонил сам"
    assert StageChange.objects.filter(deal=bakery, to_stage="paid").count() == 1
    # History, not news: no events, no letters, no timers.
    assert not Event.objects.exists()
    assert not Outbox.objects.exists()
    assert not Timer.objects.exists()


def test_import_matches_existing_contacts_by_email_phone_and_clients_by_inn(owner):
    existing_client = ClientFactory(name="Old name", tax_id="7707083893")
    existing = ContactFactory(client=existing_client, email="Maria@Romashka.test", phone="")
    raw = (
        "Компания;ИНН;Контакт;Email;Телефон\n"
        "АО Ромашка;7707083893;Мария;maria@romashka.test;+7 900 111-22-33\n"
        "Новая фирма;;Пётр;;+7 900 111-22-33\n"
    ).encode()
    job = check(upload(owner, "c.csv", raw), owner)
    rows = {row["number"]: row for row in job.report["rows"]}
    assert rows[2]["action"] == "update"
    # Row 3's phone was just given to Мария by row 2: the same contact, nothing new.
    assert rows[3]["action"] == "skip"
    services.confirm(job, actor=owner)
    existing.refresh_from_db()
    assert existing.phone == "+7 900 111-22-33"
    assert existing.phone_normalized == "+79001112233"
    assert Client.objects.count() == 1 and Contact.objects.count() == 1


def test_duplicate_rows_in_the_file_are_skipped(owner):
    raw = "Контакт;Email\nИван;ivan@x.test\nИван;ivan@x.test\n".encode()
    job = check(upload(owner, "c.csv", raw), owner)
    rows = {row["number"]: row for row in job.report["rows"]}
    assert rows[3]["action"] == "skip" and "2" in rows[3]["summary"]
    assert job.report["counts"]["contacts_created"] == 1


def test_a_failure_during_the_import_leaves_nothing(owner, monkeypatch):
    job = check(upload(owner, "amo.csv", AMO.encode()), owner)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(StageChange.objects, "bulk_create", broken)
    services.confirm(job, actor=owner)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "disk full" in job.error
    assert not Deal.objects.exists() and not Client.objects.exists()
    assert not Contact.objects.exists()


def test_a_job_imports_once(owner):
    job = check(upload(owner, "amo.csv", AMO.encode()), owner)
    services.confirm(job, actor=owner)
    with pytest.raises(services.ImportRefused):
        services.confirm(job, actor=owner)
    services.run_import(job.pk)  # a second worker claiming it does nothing
    assert Deal.objects.count() == 1


def test_xlsx_with_formula_cells_refuses_those_rows(owner):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Название сделки", "Компания", "Бюджет"])
    sheet.append(["Сайт", "ООО А", 1000])
    sheet.append(['=HYPERLINK("http://evil.test","x")', "ООО Б", "=1+1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = check(upload(owner, "book.xlsx", buffer.getvalue()), owner)
    rows = {row["number"]: row for row in job.report["rows"]}
    assert rows[2]["action"] == "create"
    assert rows[3]["action"] == "skip" and "formula" in " ".join(rows[3]["errors"])


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", "Компания;Email\n".encode(), "no rows"),
        ("garbage.csv", bytes(range(256)) * 40, "not a text file"),
        ("fake.xlsx", b"PK\x03\x04" + b"\x00" * 100, "cannot be opened"),
        ("fake2.xlsx", b"just text", "not an Excel"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(name, raw, message):
    with pytest.raises(UnreadableFile, match=message):
        read_table(name, raw)


def test_oversized_file_is_refused(settings):
    settings.IMPORT_MAX_BYTES = 1024
    with pytest.raises(UnreadableFile, match="larger"):
        read_table("big.csv", b"a,b\n" + b"1,2\n" * 1000)


def test_utf16_tab_separated_text_from_excel_is_read():
    table = read_table("unicode.txt", "Компания\tEmail\nООО А\ta@a.test\n".encode("utf-16"))
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows == [["ООО А", "a@a.test"]]


def test_a_large_file_is_imported_by_the_worker_with_progress(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache
    from django_tasks import default_task_backend

    from studiocrm.transfer import importing
    from studiocrm.transfer.tasks import run_import_task

    monkeypatch.setattr(services, "INLINE_ROWS", 0)
    default_task_backend.clear()
    job = check(upload(owner, "amo.csv", AMO.encode()), owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.confirm(job, actor=owner) is False
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED and not Deal.objects.exists()
    [queued] = default_task_backend.results
    assert queued.args == [job.pk]
    seen = []
    monkeypatch.setattr(cache, "set", lambda key, value, timeout: seen.append(value))
    run_import_task.call(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert seen[-1] == [3, 3]  # a client, a contact and a deal
    assert cache.get(importing.progress_key(job.pk)) is None


def test_amocrm_contact_columns_with_remarks_and_bitrix_split_names_are_recognised(owner):
    from studiocrm.transfer.mapping import guess_mapping

    headers = [
        "Имя",
        "Отчество",
        "Фамилия",
        "Рабочий телефон (контакт)",
        "Рабочий email (контакт)",
        "Бюджет ₽",
        "Что-то своё",
    ]
    assert guess_mapping(headers) == {
        "0": "contact_name",
        "1": "contact_middle_name",
        "2": "contact_last_name",
        "3": "contact_phone",
        "4": "contact_email",
        "5": "deal_amount",
    }
    raw = "Имя;Отчество;Фамилия;Рабочий email (контакт)\nИван;Ильич;Петров;i@p.test\n"
    job = check(upload(owner, "contacts.csv", raw.encode()), owner)
    services.confirm(job, actor=owner)
    assert Contact.objects.get().name == "Иван Ильич Петров"


def test_an_xlsx_zip_bomb_is_refused_before_unpacking(settings):
    import zipfile

    settings.IMPORT_MAX_BYTES = 10_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 100_000)
    assert len(buffer.getvalue()) < 10_000
    with pytest.raises(UnreadableFile, match="unpacks"):
        read_table("bomb.xlsx", buffer.getvalue())


def test_a_failed_import_can_be_checked_and_imported_again(owner, monkeypatch):
    job = check(upload(owner, "amo.csv", AMO.encode()), owner)
    real = StageChange.objects.bulk_create
    monkeypatch.setattr(StageChange.objects, "bulk_create", lambda *a, **k: 1 / 0)
    services.confirm(job, actor=owner)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    monkeypatch.setattr(StageChange.objects, "bulk_create", real)
    job = check(job, owner)
    services.confirm(job, actor=owner)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Deal.objects.count() == 1
