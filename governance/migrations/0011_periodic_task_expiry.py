"""The frequent periodic tasks expire before their next run is sent.

While the worker is down beat keeps sending: the outbox relay alone is 60 messages an hour, and they
all ran when the worker came back. A message older than five sixths of its entry's interval is now
dropped by the worker unrun (Celery's ``expires``), since the next run does the same work. Only the
interval entries the migrations created (relay every minute, overdue incidents every 10 minutes,
petition deadlines hourly), and only where no expiry was chosen in the admin. The daily entries (the
nightly rollup, the 08:30 mediation notices) keep no expiry: a night's rollup or a morning's notice
runs late rather than not at all (docs/reliability.md)."""

from django.db import migrations
from django.utils import timezone

TASKS = ("governance.relay_outbox", "grids.notify_overdue", "petitions.notify_deadlines")


def set_expiry(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    seconds = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 1e-6}
    for task in PeriodicTask.objects.filter(
        task__in=TASKS, interval__isnull=False, expires__isnull=True, expire_seconds__isnull=True
    ).select_related("interval"):
        interval = task.interval.every * seconds[task.interval.period]
        if interval >= 12:
            task.expire_seconds = int(interval * 5 // 6)
            task.save(update_fields=["expire_seconds"])
    _tell_beat(apps)


def _tell_beat(apps):
    # A running beat rereads the schedule only when this changes (what the model's signals do).
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def remove_expiry(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=TASKS).update(
        expire_seconds=None
    )
    _tell_beat(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0010_outbox_sent_index"),
        ("grids", "0003_overdue_schedule"),
        ("petitions", "0002_deadline_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(set_expiry, remove_expiry)]
