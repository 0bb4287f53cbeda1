"""The outbox's delivery task is defined beside the outbox (``outbox.deliver_outbox``),
which enqueues it; this name stays importable for tasks queued under it by earlier versions."""

from studiocrm.notifications.outbox import deliver_outbox

__all__ = ["deliver_outbox"]
