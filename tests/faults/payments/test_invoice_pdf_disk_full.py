"""An issued invoice's PDF asked for on a full disk (a real tiny tmpfs): the client still gets
the PDF (only its cache could not be written), nothing half-written is left, the invoice
number is unchanged; with space back, it is cached once."""

from __future__ import annotations

from studiocrm.core.models import Sequence
from tests.billing.test_client_pages import page_url


def test_the_invoice_pdf_is_served_even_when_it_cannot_be_cached(
    settings, tiny_disk, invoice, anonymous_client
):
    settings.PRIVATE_ROOT = tiny_disk.path
    number = invoice.number
    sequences = list(Sequence.objects.values_list("series", "year", "last_value"))
    tiny_disk.fill(leave_bytes=2048)

    response = anonymous_client.get(page_url(invoice, "pdf/"))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert tiny_disk.files() == []

    tiny_disk.free()
    for _request in range(2):
        again = anonymous_client.get(page_url(invoice, "pdf/"))
        assert again.content.startswith(b"%PDF")
    cached = tiny_disk.files()
    assert len(cached) == 1 and cached[0].startswith(f"billing/invoices/{invoice.pk}-")
    invoice.refresh_from_db()
    assert invoice.number == number
    assert list(Sequence.objects.values_list("series", "year", "last_value")) == sequences
