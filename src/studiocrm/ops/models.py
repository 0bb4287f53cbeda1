"""What the operations app remembers: one row per worker process and its last heartbeat."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """A `manage.py worker` process, written every OPS_HEARTBEAT_SECONDS while it lives.

    A row whose ``seen_at`` is older than OPS_WORKER_STALE_SECONDS and that has no
    ``stopped_at`` belongs to a worker that died without saying goodbye (killed, crashed,
    its machine gone): the System page shows it red and the owner is told once
    (``alerted_at``). A worker that stops cleanly writes ``stopped_at`` on its way out.
    """

    worker_id = models.CharField(_("worker"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    seen_at = models.DateTimeField(_("last heartbeat"), default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["host", "pid"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id
