"""The outbox relay runs every minute from the database-backed beat schedule."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name="governance.relay_outbox",
        defaults={"task": "governance.relay_outbox", "interval": every_minute, "enabled": True,
                  "description": "Send outbox messages that could not be sent when they were written."},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="governance.relay_outbox").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
