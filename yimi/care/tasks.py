"""Background tasks of the care part (django-tasks: a database queue, ``yimi db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def orders_escalate_task() -> dict:
    """督办: escalate the late orders (see ``services.orders.orders_escalate``); a summary."""
    from .services.orders import orders_escalate

    summary = orders_escalate()
    return {
        "checked": summary.checked,
        "escalated": summary.escalated,
        "late_steps": summary.late_steps,
        "orders": summary.orders,
    }
