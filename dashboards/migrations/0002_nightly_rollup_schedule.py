"""The rollup runs nightly at 02:00 Asia/Shanghai from the database-backed beat schedule."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    two_am, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.update_or_create(
        name="dashboards.rollup nightly",
        defaults={
            "task": "dashboards.rollup",
            "crontab": two_am,
            "interval": None,
            "enabled": True,
            "kwargs": '{"trigger": "nightly"}',
            "description": "Recompute indicator values changed since the last successful run and the current periods.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="dashboards.rollup nightly").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
