"""PDFs: the same HTML through WeasyPrint, by a task, cached per content; nothing fetched."""

import base64
import http.server
import io
import logging
import threading

import pytest
from django.urls import reverse
from pypdf import PdfReader

from studiocrm.documents import pdf as pdf_module
from studiocrm.documents import services
from studiocrm.documents.models import PdfFile, Revision

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _text(pdf_file):
    with pdf_file.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_sending_queues_the_pdf_of_the_frozen_revision(sent_proposal):
    revision = Revision.objects.get(document=sent_proposal)
    pdf = PdfFile.objects.get(document=sent_proposal)
    assert pdf.revision == revision
    assert pdf.html_sha256 == revision.html_sha256
    assert pdf.status == PdfFile.Status.PENDING


def test_the_pdf_has_cyrillic_text_page_numbers_and_several_pages(sent_proposal):
    pdf = PdfFile.objects.get(document=sent_proposal)
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    pdf.refresh_from_db()
    reader, text = _text(pdf)
    assert "О студии" in text and "Варианты и стоимость" in text
    assert "Страница 1 из" in text
    assert len(reader.pages) == pdf.pages >= 2
    assert pdf.render_ms is not None


def test_a_ready_pdf_is_never_rendered_again(sent_proposal, monkeypatch):
    pdf = PdfFile.objects.get(document=sent_proposal)
    pdf_module.render_pdf_file(pdf.pk)
    monkeypatch.setattr(pdf_module, "write_pdf", lambda html: pytest.fail("rendered twice"))
    assert pdf_module.render_pdf_file(pdf.pk) == "ready"
    again = services.request_pdf(sent_proposal, html=pdf.html, title="x")
    assert again.pk == pdf.pk
    assert PdfFile.objects.count() == 1


def test_the_download_waits_for_the_task_then_serves_the_file(anonymous_client, sent_proposal):
    url = reverse("documents_client:pdf", args=[sent_proposal.link_token()])
    waiting = anonymous_client.get(url)
    assert waiting.status_code == 202
    assert "Готовим PDF" in waiting.content.decode()
    polled = anonymous_client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Redirect" not in polled
    pdf_module.render_pdf_file(PdfFile.objects.get(document=sent_proposal).pk)
    ready_poll = anonymous_client.get(url, HTTP_HX_REQUEST="true")
    assert ready_poll["HX-Redirect"] == url
    download = anonymous_client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Referrer-Policy"] == "no-referrer"
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_the_manager_downloads_the_same_cached_pdf(manager_client, sent_proposal):
    pdf = PdfFile.objects.get(document=sent_proposal)
    pdf_module.render_pdf_file(pdf.pk)
    response = manager_client.get(reverse("documents:pdf", args=[sent_proposal.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert PdfFile.objects.count() == 1


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server interface
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args):
        pass


def test_the_renderer_fetches_no_file_and_no_url(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        html = (
            f'<img src="file://{secret}"><img src="http://127.0.0.1:{port}/pixel.png">'
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"><p>Тест</p>'
        )
        content, _pages = pdf_module.write_pdf(html)
    finally:
        server.shutdown()
    assert _Recorder.requests == []
    reader = PdfReader(io.BytesIO(content))
    assert not reader.pages[0].images
    assert "Тест" in reader.pages[0].extract_text()


def test_the_studio_logo_is_printed(sent_proposal, settings, tmp_path):
    from django.core.files.base import ContentFile

    from studiocrm.core.models import Studio

    settings.MEDIA_ROOT = tmp_path / "media"
    studio = Studio.load()
    studio.logo.save("logo.png", ContentFile(PNG), save=True)
    html = pdf_module.print_html(title="КП", body="<p>Тело</p>", language="ru")
    assert "data:image/png;base64," in html
    reader = PdfReader(io.BytesIO(pdf_module.write_pdf(html)[0]))
    assert len(reader.pages[0].images) == 1


def test_a_logo_that_is_not_an_image_is_left_out(settings, tmp_path, studio):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path / "media"
    studio.logo.save("logo.png", ContentFile(b"<svg onload=alert(1)>"), save=True)
    assert pdf_module.logo_data_uri(studio) == ""


def test_printing_a_document_logs_no_stylesheet_warnings(sent_proposal, caplog):
    pdf = PdfFile.objects.get(document=sent_proposal)

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        assert pdf_module.render_pdf_file(pdf.pk) == "ready"

    assert [
        record.getMessage() for record in caplog.records if record.name.startswith("weasyprint")
    ] == []


def test_the_client_page_keeps_the_narrow_screen_styles(anonymous_client, sent_proposal):
    page = anonymous_client.get(
        reverse("documents_client:page", args=[sent_proposal.link_token()])
    ).content.decode()

    assert "documents/document.css" in page
    assert "documents/document-screen.css" in page
    assert "@media" not in pdf_module.document_css()
