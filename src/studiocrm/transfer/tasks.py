from django_tasks import task

from studiocrm.transfer import importing


@task()
def run_import_task(job_id: int) -> None:
    """A large import, in the worker (the page polls its progress)."""
    importing.run_import(job_id)


@task()
def run_check_task(job_id: int) -> None:
    """The dry run of a large file, in the worker (the page polls until it is done)."""
    importing.run_check(job_id)
