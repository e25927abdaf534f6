"""Oral agreements have no judicial-confirmation window (DisputeCase.CONFIRMABLE_OUTCOMES: the court
confirms a written agreement, 人民调解法 art. 33). Those concluded before kept the date they were
given, which the API still showed; it is cleared where no application was recorded (a recorded one
stays as history)."""

from django.db import migrations


def clear_oral_windows(apps, schema_editor):
    DisputeCase = apps.get_model("mediation", "DisputeCase")
    DisputeCase.objects.filter(
        outcome="success_oral", judicial_status="", confirmation_due__isnull=False
    ).update(confirmation_due=None)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0015_recompute_running_time_limits")]

    operations = [migrations.RunPython(clear_oral_windows, migrations.RunPython.noop)]
