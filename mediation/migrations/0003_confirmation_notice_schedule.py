"""Schedule the daily notice of closing judicial-confirmation windows in the beat database.

The schedule is a row, not code, so every beat instance reads the same schedule and an operator can
change it in the admin; this migration only creates it when missing."""

from django.db import migrations

TASK = "mediation.notify_confirmation_closing"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    morning, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="8", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name="mediation: closing judicial-confirmation windows",
        defaults={"task": TASK, "crontab": morning, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0002_default_categories"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
