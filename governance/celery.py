"""The Celery application. Broker: Redis (REDIS_URL). The beat schedule lives in the database
(django-celery-beat), created by data migrations, so every scheduler reads the same rows."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data(logger, **kwargs) -> None:
    # A worker or beat replaces the root logger's handlers with its own, which lack the filter that
    # settings.LOGGING puts on the web's: give them the same one (ID and mobile numbers masked).
    from governance.logging import MaskPersonalDataFilter

    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters):
            handler.addFilter(MaskPersonalDataFilter())
