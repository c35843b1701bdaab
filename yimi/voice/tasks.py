"""Background tasks of the voice part (django-tasks: a database queue, ``yimi db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def voice_escalate_task() -> dict:
    """催办/督办 of late letters (see ``services.handling.suggestions_escalate``); a summary."""
    from .services.handling import suggestions_escalate

    return suggestions_escalate().as_dict()
