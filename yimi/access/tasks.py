"""Background tasks of the access part (django-tasks: a database queue, ``yimi db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def analysis_run_task(run_id: int) -> str:
    """Compute an analysis run queued by ``services.run_create``; returns its final status."""
    from .services import run_execute

    return run_execute(run_id=run_id).status
