"""The Celery application. Broker: Redis (REDIS_URL). The beat schedule lives in the database
(django-celery-beat), created by data migrations, so every scheduler reads the same rows."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
