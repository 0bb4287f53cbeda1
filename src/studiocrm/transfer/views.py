"""Owner pages: upload a file, map its columns and stages, see the dry run, import; export."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from studiocrm.core import audit
from studiocrm.core.permissions import owner_required
from studiocrm.deals.models import Stage
from studiocrm.transfer import exports, importing, services
from studiocrm.transfer.mapping import FIELDS, guess_stage
from studiocrm.transfer.models import ImportJob
from studiocrm.transfer.reading import Table, UnreadableFile, cell_text, max_bytes


@owner_required
def index(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
            status = 400
        elif upload.size > max_bytes():
            messages.error(
                request,
                _("The file is larger than %(size)d MB.") % {"size": max_bytes() // 1048576},
            )
            status = 400
        else:
            try:
                job = services.create_job(upload.name, upload.read(), actor=request.user)
            except UnreadableFile as error:
                messages.error(request, str(error))
                status = 400
            else:
                return redirect("transfer:job", job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:20]
    return render(
        request,
        "transfer/index.html",
        {"jobs": jobs, "max_mb": max_bytes() // 1048576, "kinds": exports.KINDS},
        status=status,
    )


def _mapping_from_post(request: HttpRequest, job: ImportJob) -> tuple[dict, list[str]]:
    mapping: dict[str, str] = {}
    errors = []
    for index in range(len(job.headers)):
        field = request.POST.get(f"column-{index}", "")
        if not field:
            continue
        if field not in FIELDS:
            errors.append(_("Unknown field."))
        elif field in mapping.values():
            errors.append(_("“%(field)s” is chosen for two columns.") % {"field": FIELDS[field]})
        else:
            mapping[str(index)] = field
    if not mapping:
        errors.append(_("Choose what at least one column holds."))
    return mapping, errors


WORKING = (ImportJob.Status.CHECKING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
# A failed import saved nothing: its mapping may be changed and the file checked again.
EDITABLE = (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED, ImportJob.Status.FAILED)


@owner_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    stages = list(Stage.objects.all())
    errors: list[str] = []
    if request.method == "POST" and job.status in EDITABLE:
        mapping, errors = _mapping_from_post(request, job)
        codes = {stage.code for stage in stages}
        stage_mapping = {
            request.POST.get(f"stage-name-{i}", ""): request.POST.get(f"stage-{i}", "")
            for i in range(500)
            if f"stage-name-{i}" in request.POST
        }
        if any(code not in codes for code in stage_mapping.values()):
            errors.append(_("Unknown stage."))
        if not errors:
            job.mapping = mapping
            job.save(update_fields=["mapping"])
            if "remap" not in request.POST:
                try:
                    services.start_check(job, mapping, stage_mapping, actor=request.user)
                except services.ImportRefused as error:
                    messages.error(request, str(error))
            return redirect("transfer:job", job.pk)
    table_error = ""
    stage_rows = []
    preview: list[list] = []
    editable = job.status in EDITABLE
    try:
        # Only the mapping form needs the file (read again: a large one takes seconds).
        table = importing.load_table(job) if editable else None
    except UnreadableFile as error:
        table_error = str(error)
    else:
        table = table or Table(headers=job.headers, rows=[], file_format=job.file_format)
        preview = table.rows[:3]
        for index, name in enumerate(services.stage_names(job, table)):
            stage_rows.append(
                {
                    "index": index,
                    "name": name,
                    "code": job.stage_mapping.get(name) or guess_stage(name, stages),
                }
            )
    columns = [
        {
            "index": index,
            "header": header,
            "field": job.mapping.get(str(index), ""),
            "samples": [
                text
                for row in preview
                if (text := cell_text(row[index] if index < len(row) else ""))
            ],
        }
        for index, header in enumerate(job.headers)
    ]
    return render(
        request,
        "transfer/job.html",
        {
            "job": job,
            "columns": columns,
            "fields": list(FIELDS.items()),
            "stages": stages,
            "stage_rows": stage_rows,
            "errors": errors,
            "table_error": table_error,
            "progress": cache.get(importing.progress_key(job.pk)),
            "editable": editable,
        },
        status=400 if errors else 200,
    )


@owner_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        services.confirm(job, actor=request.user)
    except services.ImportRefused as error:
        messages.error(request, str(error))
    return redirect("transfer:job", job.pk)


@owner_required
@require_GET
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress block the job page polls with htmx while the worker checks or imports;
    once it has finished, the whole page reloads to show the result."""
    job = get_object_or_404(ImportJob, pk=pk)
    if request.htmx and job.status not in WORKING:
        return HttpResponseClientRefresh()
    return render(
        request,
        "transfer/_status.html",
        {"job": job, "progress": cache.get(importing.progress_key(job.pk))},
    )


@owner_required
@require_GET
def export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in exports.KINDS or fmt not in ("csv", "xlsx"):
        raise Http404
    header, rows = exports.rows_for(kind)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    audit.record(
        "transfer.exported", request.user, actor=request.user, data={"kind": kind, "format": fmt}
    )
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(
            exports.csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exports.xlsx_bytes(kind, header, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.{fmt}"'
    return response
