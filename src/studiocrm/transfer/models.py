from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studiocrm.portal.files import PrivateStorage


class ImportJob(models.Model):
    """One uploaded file on its way in: mapping, dry run, import.

    The file stays in private storage and is read again at every step, so what is imported
    is what the dry run showed, re-checked inside the import's transaction.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("waiting for the column mapping")
        CHECKING = "checking", _("checking")
        CHECKED = "checked", _("checked, waiting for confirmation")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("importing")
        DONE = "done", _("imported")
        FAILED = "failed", _("failed, nothing imported")

    file = models.FileField(storage=PrivateStorage(), upload_to="imports/")
    original_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)  # csv or xlsx
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    # column index (as a string) -> target field key; stage name in the file -> stage code.
    mapping = models.JSONField(default=dict, blank=True)
    stage_mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    # The dry run's (and after the import, the import's) counts and the rows to show.
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
