"""Schedule the daily notice of running cases' time limits (ending within 3 days, or passed) in the
beat database, next to the closing judicial-confirmation windows (migration 0003): a row, not code,
that an operator can change in the admin; created only when missing."""

from django.db import migrations

TASK = "mediation.notify_limits"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    morning, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="8", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name="mediation: time limits ending or passed",
        defaults={"task": TASK, "crontab": morning, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0010_organisation_name_prefix_index"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
