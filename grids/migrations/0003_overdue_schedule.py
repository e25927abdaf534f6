"""Schedule the overdue-incident notifications in the beat database (every 10 minutes).

The schedule is a row, not code, so every beat instance reads the same schedule and an operator can
change the interval in the admin; this migration only creates it when missing."""

from django.db import migrations

TASK = "grids.notify_overdue"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="grids: notify overdue incidents", defaults={"task": TASK, "interval": every, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0002_default_categories"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
