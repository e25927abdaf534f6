"""Schedule the petition deadline reminders in the beat database (hourly).

The schedule is a row, not code, so every beat instance reads the same schedule and an operator can
change the interval in the admin; this migration only creates it when missing."""

from django.db import migrations

TASK = "petitions.notify_deadlines"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name="petitions: deadline reminders", defaults={"task": TASK, "interval": every, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
