"""The owner imports a Bitrix24 export in a real browser: upload, the guessed columns and
stages, the dry run, the import; and opens the mailbox settings. In Russian, on a phone and
on a desktop; with E2E_SCREENSHOTS=1 the pages are kept in test-artifacts/transfer/."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from studiocrm.deals.models import Deal
from tests.e2e.test_analytics import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "transfer"

BITRIX = (
    "Название сделки;Стадия сделки;Сумма;Валюта;Ответственный;Дата создания;Компания;Контакт;"
    "Телефон;Email\n"
    "Сайт для пекарни;Успешно реализовано;150 000,00;RUB;;05.03.2025 10:15:00;ООО Булка;"
    "Иван Петров;+7 (999) 123-45-67;ivan@bulka.test\n"
    "Лендинг;Новая;50000;RUB;;06.03.2025;ООО Булка;Иван Петров;8 999 123 45 67;\n"
    "Плохая строка;Новая;много;RUB;;вчера;;;;\n"
)


def shot(page, name):
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits(page) -> bool:
    """Nothing sticks out of the window's width (wide tables scroll inside their box)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


@pytest.mark.parametrize(("device", "width"), [("phone", 390), ("desktop", 1280)])
def test_owner_imports_a_bitrix_export_in_russian(
    live_server, browser, owner, tmp_path, settings, device, width
):
    settings.PRIVATE_ROOT = tmp_path / "private"
    owner.language = "ru"
    owner.save()
    source = tmp_path / "bitrix.csv"
    source.write_bytes(BITRIX.encode("cp1251"))
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, live_server, owner)
    page.goto(live_server.url + reverse("transfer:index"))
    page.set_input_files("#import-file", str(source))
    shot(page, f"{device}-1-upload")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url("**/transfer/jobs/*/")
    assert page.locator("#column-0").input_value() == "deal_title"
    assert page.locator("#stage-0").input_value() == "paid"
    assert fits(page)
    shot(page, f"{device}-2-mapping")
    page.click("text=Проверить (ничего не сохраняется)")
    page.wait_for_load_state()
    assert page.locator("text=с ошибками: 1").count() == 1
    assert page.locator("text=«много» — не сумма.").count() == 1
    shot(page, f"{device}-3-dry-run")
    assert not Deal.objects.exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action$='/confirm/'] button")
    page.wait_for_load_state()
    assert page.locator("text=Что импортировано").count() == 1
    shot(page, f"{device}-4-imported")
    assert Deal.objects.count() == 2
    assert fits(page)
    page.goto(live_server.url + reverse("intake:mailbox"))
    assert page.locator("text=Заявки из почты").count() == 1
    shot(page, f"{device}-5-mailbox")
    assert errors == []
    page.close()
