from __future__ import annotations

from celery import shared_task

from governance import deadlines, outbox


@shared_task(name="governance.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return outbox.relay()


@shared_task(name="governance.refresh_deadlines", ignore_result=True, acks_late=True)
def refresh_deadlines() -> int:
    return deadlines.refresh()
