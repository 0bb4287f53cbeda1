"""The client's brief page over HTTP: headers, 404s, rate limit, autosave, files, submit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studiocrm.briefs import services
from studiocrm.briefs.models import Brief, BriefFile
from studiocrm.deals.models import BRIEF_RECEIVED
from studiocrm.notifications.models import Outbox
from studiocrm.portal.links import revoke
from tests.briefs.conftest import REQUIRED_CORPORATE_ANSWERS, fill_required

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64


@pytest.fixture
def token(sent_brief):
    return sent_brief.link_token()


def url(name, token, *args):
    return reverse(f"briefs_client:{name}", args=[token, *args])


# ---------------------------------------------------------------- page and headers


def test_the_page_opens_with_privacy_headers(anonymous_client, token):
    response = anonymous_client.get(url("brief", token))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert b"What should the website achieve?" in response.content


def test_the_page_loads_nothing_from_other_sites(anonymous_client, token):
    html = anonymous_client.get(url("brief", token)).content.decode()
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html
    assert "//cdn" not in html


def test_the_page_sets_no_cookies(anonymous_client, token):
    response = anonymous_client.get(url("brief", token))
    assert not response.cookies


def test_the_page_shows_the_studio_name_and_speaks_the_brief_language(
    anonymous_client, deal, manager, template_ru
):
    brief = services.send_brief(deal, template_ru, actor=manager)
    response = anonymous_client.get(url("brief", brief.link_token()))
    assert b"Test Studio" in response.content
    assert '<html lang="ru">' in response.content.decode()
    assert response["Content-Language"] == "ru"


def test_get_changes_nothing_but_the_view_record(anonymous_client, sent_brief, token):
    before = Brief.objects.filter(pk=sent_brief.pk).values().get()
    for name in ("brief", "brief_thanks"):
        anonymous_client.get(url(name, token))
    after = Brief.objects.filter(pk=sent_brief.pk).values().get()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"first_viewed_at", "view_count"}
    assert after["view_count"] == 1


def test_the_first_view_notifies_the_manager_once(anonymous_client, sent_brief, token, manager):
    for _ in range(3):
        anonymous_client.get(url("brief", token))
    assert (
        Outbox.objects.filter(dedupe_key=f"brief-viewed:{sent_brief.pk}", to=manager.email).count()
        == 1
    )
    sent_brief.refresh_from_db()
    assert sent_brief.view_count == 3


def test_head_requests_are_not_counted_as_views(anonymous_client, sent_brief, token):
    anonymous_client.head(url("brief", token))
    sent_brief.refresh_from_db()
    assert sent_brief.view_count == 0


# ---------------------------------------------------------------- bad tokens


def test_wrong_revoked_and_expired_tokens_get_the_same_404(
    anonymous_client, sent_brief, token, manager
):
    wrong = anonymous_client.get(url("brief", "x" * 43))
    garbage = anonymous_client.get("/c/b/%3Cscript%3E/")
    revoke(sent_brief)
    revoked = anonymous_client.get(url("brief", token))
    other = services.send_brief(sent_brief.deal, sent_brief.template, actor=manager)
    other.expires_at = other.created_at
    other.save(update_fields=["expires_at"])
    expired = anonymous_client.get(url("brief", other.link_token()))
    assert {wrong.status_code, garbage.status_code, revoked.status_code, expired.status_code} == {
        404
    }
    assert wrong.content == garbage.content == revoked.content == expired.content
    assert wrong["X-Robots-Tag"] == "noindex, nofollow"


def test_bad_tokens_are_404_on_every_client_endpoint(anonymous_client):
    bad = "y" * 43
    assert anonymous_client.post(url("brief_save", bad), {"key": "goal"}).status_code == 404
    assert anonymous_client.post(url("brief_submit", bad)).status_code == 404
    assert anonymous_client.get(url("brief_file", bad, 1)).status_code == 404


def test_too_many_404s_from_one_address_are_rate_limited(anonymous_client, token, settings):
    settings.PORTAL_NOT_FOUND_RATE = "5/m"
    statuses = [anonymous_client.get(url("brief", f"{n:0>43}")).status_code for n in range(7)]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    # Once limited, even a good link answers 429: guessing cannot continue via a known link.
    assert anonymous_client.get(url("brief", token)).status_code == 429
    other_address = anonymous_client.get(url("brief", token), REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 200


# ---------------------------------------------------------------- autosave


def test_autosave_stores_the_answer_and_says_saved(anonymous_client, sent_brief, token):
    response = anonymous_client.post(
        url("brief_save", token), {"key": "goal", "q_goal": "Sell cakes"}
    )
    assert response.status_code == 200
    assert b"Saved" in response.content
    assert b'id="brief-progress"' in response.content
    sent_brief.refresh_from_db()
    assert sent_brief.answers["goal"] == "Sell cakes"


def test_answers_are_restored_when_the_client_comes_back(anonymous_client, token):
    anonymous_client.post(url("brief_save", token), {"key": "goal", "q_goal": "Sell cakes"})
    anonymous_client.post(
        url("brief_save", token), {"key": "features", "q_features": ["catalog", "search"]}
    )
    html = anonymous_client.get(url("brief", token)).content.decode()
    assert ">Sell cakes</textarea>" in html
    assert 'value="catalog" checked' in html
    assert 'value="search" checked' in html
    assert 'value="cart" checked' not in html


def test_an_oversized_answer_is_rejected_with_a_clear_message(anonymous_client, sent_brief, token):
    response = anonymous_client.post(
        url("brief_save", token), {"key": "goal", "q_goal": "x" * 6000}
    )
    assert response.status_code == 422
    assert "too long" in response.content.decode()
    sent_brief.refresh_from_db()
    assert "goal" not in sent_brief.answers


def test_a_made_up_option_is_rejected(anonymous_client, sent_brief, token):
    response = anonymous_client.post(
        url("brief_save", token), {"key": "features", "q_features": ["catalog", "free_money"]}
    )
    assert response.status_code == 422
    sent_brief.refresh_from_db()
    assert "features" not in sent_brief.answers


def test_an_unknown_question_is_rejected(anonymous_client, token):
    response = anonymous_client.post(url("brief_save", token), {"key": "../etc", "q_../etc": "x"})
    assert response.status_code == 422


def test_autosave_needs_post(anonymous_client, token):
    assert anonymous_client.get(url("brief_save", token)).status_code == 405


# ---------------------------------------------------------------- files


def upload(anonymous_client, token, name, content, key="brand_files"):
    return anonymous_client.post(
        url("brief_upload", token),
        {"key": key, f"file_{key}": SimpleUploadedFile(name, content, content_type="image/png")},
    )


def test_an_allowed_file_is_stored_privately_and_listed(
    anonymous_client, sent_brief, token, private_root, settings
):
    response = upload(anonymous_client, token, "logo.png", PNG)
    assert response.status_code == 200
    stored = BriefFile.objects.get(brief=sent_brief)
    assert stored.content_type == "image/png"
    assert stored.original_name == "logo.png"
    path = private_root / stored.file.name
    assert path.read_bytes() == PNG
    assert not str(path).startswith(str(settings.MEDIA_ROOT))
    assert "logo" not in stored.file.name  # our name on disk, never the client's
    sent_brief.refresh_from_db()
    assert sent_brief.answers["brand_files"] == [stored.pk]
    assert b"logo.png" in response.content


def test_a_file_whose_content_does_not_match_its_name_is_rejected(
    anonymous_client, sent_brief, token
):
    response = upload(anonymous_client, token, "logo.png", PDF)
    assert response.status_code == 422
    assert "does not match" in response.content.decode()
    assert not BriefFile.objects.exists()


def test_a_program_is_rejected_whatever_it_is_called(anonymous_client, token):
    for name in ("setup.exe", "photo.jpg", "readme.pdf"):
        response = upload(anonymous_client, token, name, EXE)
        assert response.status_code == 422
    assert not BriefFile.objects.exists()


def test_an_oversized_file_is_rejected_with_the_limit(anonymous_client, token, monkeypatch):
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1000)
    response = upload(anonymous_client, token, "logo.png", PNG + b"\x00" * 2000)
    assert response.status_code == 422
    assert "too large" in response.content.decode()
    assert not BriefFile.objects.exists()


def test_a_huge_request_is_refused_before_it_is_read(anonymous_client, token):
    response = anonymous_client.post(
        url("brief_upload", token),
        data=b"x",
        content_type="multipart/form-data; boundary=zz",
        CONTENT_LENGTH=str(services.MAX_FILE_BYTES * 3),
    )
    assert response.status_code == 413


def test_a_huge_submit_is_refused_before_it_is_read(anonymous_client, sent_brief, token):
    response = anonymous_client.post(
        url("brief_submit", token),
        data=b"x",
        content_type="multipart/form-data; boundary=zz",
        CONTENT_LENGTH=str(services.MAX_BRIEF_BYTES * 2),
    )
    assert response.status_code == 413
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SENT


def test_files_to_a_non_file_question_are_refused(anonymous_client, token):
    response = upload(anonymous_client, token, "logo.png", PNG, key="goal")
    assert response.status_code == 404
    assert not BriefFile.objects.exists()


def test_the_file_is_served_only_through_its_own_brief_link(
    anonymous_client, sent_brief, token, deal, manager, template_en
):
    upload(anonymous_client, token, "logo.png", PNG)
    stored = BriefFile.objects.get()
    response = anonymous_client.get(url("brief_file", token, stored.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
    other = services.send_brief(deal, template_en, actor=manager)
    assert anonymous_client.get(url("brief_file", other.link_token(), stored.pk)).status_code == 404
    revoke(sent_brief)
    assert anonymous_client.get(url("brief_file", token, stored.pk)).status_code == 404


def test_removing_a_file_deletes_it(
    anonymous_client, sent_brief, token, private_root, django_capture_on_commit_callbacks
):
    upload(anonymous_client, token, "logo.png", PNG)
    stored = BriefFile.objects.get()
    path = private_root / stored.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = anonymous_client.post(
            url("brief_remove_file", token), {"key": "brand_files", "file": stored.pk}
        )
    assert response.status_code == 200
    assert not BriefFile.objects.exists()
    assert not path.exists()
    sent_brief.refresh_from_db()
    assert "brand_files" not in sent_brief.answers


def test_at_most_five_files_per_question(anonymous_client, token):
    statuses = [upload(anonymous_client, token, f"logo{n}.png", PNG).status_code for n in range(6)]
    assert statuses == [200] * 5 + [422]
    assert BriefFile.objects.count() == 5


# ---------------------------------------------------------------- submit


def test_submitting_moves_the_deal_and_shows_thanks(anonymous_client, sent_brief, token):
    fill_required(sent_brief)
    response = anonymous_client.post(url("brief_submit", token))
    assert response.status_code == 302
    assert response["Location"] == url("brief_thanks", token)
    thanks = anonymous_client.get(response["Location"])
    assert b"What happens next" in thanks.content
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SUBMITTED
    assert sent_brief.deal.stage_id == BRIEF_RECEIVED


def test_submitting_with_missing_answers_lists_them(anonymous_client, sent_brief, token):
    response = anonymous_client.post(url("brief_submit", token))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'href="#q-goal"' in html
    assert "Please answer this question." in html
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SENT


def test_the_whole_form_can_be_submitted_without_javascript(anonymous_client, sent_brief, token):
    data = {f"q_{key}": value for key, value in REQUIRED_CORPORATE_ANSWERS.items()}
    data["full_form"] = "1"
    data["q_features"] = ["catalog", "other"]
    data["q_features__other"] = "Loyalty cards"
    response = anonymous_client.post(url("brief_submit", token), data)
    assert response.status_code == 302
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SUBMITTED
    assert sent_brief.answers["features__other"] == "Loyalty cards"
    assert sent_brief.answers["pages"] == ["home", "contacts"]


def test_a_bad_value_in_the_whole_form_keeps_what_was_typed(anonymous_client, sent_brief, token):
    data = {f"q_{key}": value for key, value in REQUIRED_CORPORATE_ANSWERS.items()}
    data.update(full_form="1", q_deadline="someday", q_audience="Families")
    response = anonymous_client.post(url("brief_submit", token), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="someday"' in html
    assert "Enter a date" in html
    sent_brief.refresh_from_db()
    assert sent_brief.status == Brief.Status.SENT
    assert sent_brief.answers["audience"] == "Families"


def test_a_second_submit_lands_on_thanks_without_a_second_submission(
    anonymous_client, sent_brief, token
):
    fill_required(sent_brief)
    first = anonymous_client.post(url("brief_submit", token))
    second = anonymous_client.post(
        url("brief_submit", token), {"full_form": "1", "q_goal": "Other"}
    )
    assert first["Location"] == second["Location"] == url("brief_thanks", token)
    sent_brief.refresh_from_db()
    assert sent_brief.answers["goal"] == "Get orders for cakes"
    assert Outbox.objects.filter(dedupe_key__startswith="brief-submitted:").count() == 1


def test_after_submitting_the_page_is_read_only(anonymous_client, sent_brief, token):
    fill_required(sent_brief)
    anonymous_client.post(url("brief_submit", token))
    page = anonymous_client.get(url("brief", token)).content.decode()
    assert "<textarea" not in page
    assert "Get orders for cakes" in page
    save = anonymous_client.post(url("brief_save", token), {"key": "goal", "q_goal": "Changed"})
    assert save.status_code == 409
    sent_brief.refresh_from_db()
    assert sent_brief.answers["goal"] == "Get orders for cakes"


def test_a_reopened_brief_shows_the_managers_request(anonymous_client, sent_brief, token, manager):
    fill_required(sent_brief)
    services.submit_brief(sent_brief)
    services.reopen_brief(sent_brief, "Please add <b>the budget</b>", actor=manager)
    html = anonymous_client.get(url("brief", token)).content.decode()
    assert "Please add &lt;b&gt;the budget&lt;/b&gt;" in html
    assert "<textarea" in html


def test_a_script_typed_by_the_client_stays_text(
    anonymous_client, sent_brief, token, manager_client
):
    hostile = '<script>alert("x")</script>'
    anonymous_client.post(url("brief_save", token), {"key": "company", "q_company": hostile})
    client_page = anonymous_client.get(url("brief", token)).content.decode()
    manager_page = manager_client.get(
        reverse("briefs:detail", args=[sent_brief.pk])
    ).content.decode()
    for html in (client_page, manager_page):
        assert hostile not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
