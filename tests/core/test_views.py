"""Core pages: studio settings and users are the owner's; language switching works."""

import pytest
from django.urls import reverse

from studiocrm.core.models import Studio, User

pytestmark = pytest.mark.django_db

OWNER_PAGES = ["core:settings", "core:users", "core:audit", "deals:stages"]


def http_for(request, persona):
    return request.getfixturevalue(f"{persona}_client")


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_owner_opens_settings_pages_with_every_tab(owner_client, name):
    response = owner_client.get(reverse(name))
    html = response.content.decode()
    assert response.status_code == 200
    for tab in OWNER_PAGES:
        assert reverse(tab) in html


@pytest.mark.parametrize("persona", ["manager", "other_manager"])
@pytest.mark.parametrize("name", OWNER_PAGES)
def test_managers_get_403_on_settings_pages(request, persona, name):
    assert http_for(request, persona).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", [*OWNER_PAGES, "core:profile"])
def test_anonymous_is_sent_to_log_in_from_settings(anonymous_client, name):
    response = anonymous_client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_manager_cannot_change_studio_settings(manager_client, studio):
    response = manager_client.post(reverse("core:settings"), {"name": "Hijacked"})
    assert response.status_code == 403
    assert Studio.load().name == "Test Studio"


def test_manager_cannot_deactivate_a_user(manager_client, other_manager):
    response = manager_client.post(reverse("core:user_toggle", args=[other_manager.pk]))
    assert response.status_code == 403
    assert User.objects.get(pk=other_manager.pk).is_active


def test_settings_link_shows_only_for_owners(owner_client, manager_client):
    settings_url = reverse("core:settings")
    assert settings_url in owner_client.get(reverse("deals:board")).content.decode()
    assert settings_url not in manager_client.get(reverse("deals:board")).content.decode()


def test_language_switch_turns_the_pages_russian(manager_client):
    response = manager_client.post(
        reverse("set_language"), {"language": "ru", "next": reverse("deals:board")}
    )
    assert response.status_code == 302
    html = manager_client.get(reverse("deals:board")).content.decode()
    assert '<html lang="ru">' in html
    assert "Воронка" in html
    assert "Новая сделка" in html


@pytest.mark.parametrize(
    ("url_name", "russian"),
    [
        ("deals:board", "Перетащите карточку"),
        ("deals:list", "Сделки"),
        ("deals:my_day", "Мой день"),
        ("deals:create", "Новая сделка"),
        ("clients:list", "Клиенты"),
        ("clients:create", "Новый клиент"),
        ("core:profile", "Ваш профиль"),
    ],
)
def test_manager_pages_are_translated_into_russian(manager_client, url_name, russian):
    manager_client.cookies["django_language"] = "ru"
    assert russian in manager_client.get(reverse(url_name)).content.decode()


def test_login_page_is_translated_into_russian(anonymous_client):
    anonymous_client.cookies["django_language"] = "ru"
    html = anonymous_client.get(reverse("login")).content.decode()
    assert "Войти" in html
    assert "Забыли пароль?" in html


def test_stage_names_default_to_the_users_language(manager_client):
    manager_client.cookies["django_language"] = "ru"
    html = manager_client.get(reverse("deals:board")).content.decode()
    assert "Бриф отправлен" in html
    assert "Оплачено" in html
