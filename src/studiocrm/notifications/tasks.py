from django_tasks import task

from studiocrm.notifications import outbox


@task()
def deliver_outbox(outbox_id: int) -> str:
    return outbox.deliver(outbox_id)
