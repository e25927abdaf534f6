from __future__ import annotations

from celery import shared_task

from governance import outbox


@shared_task(name="governance.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return outbox.relay()
