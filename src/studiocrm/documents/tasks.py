"""Background work of documents: rendering PDFs. Tasks take ids and are idempotent."""

from django_tasks import task

from studiocrm.documents import pdf


@task()
def render_pdf(pdf_id: int) -> str:
    return pdf.render_pdf_file(pdf_id)
