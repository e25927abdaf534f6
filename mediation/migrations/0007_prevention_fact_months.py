"""Each prevention fact keeps the time it was recorded: the month it counts in.

Cases recorded before keep counting where they did: both dates start as ``prevention_recorded_at``
for the facts the case has (which fact came later was never stored)."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    DisputeCase = apps.get_model("mediation", "DisputeCase")
    recorded = DisputeCase.objects.filter(prevention_recorded_at__isnull=False)
    recorded.filter(escalation_prevented=True).update(escalation_recorded_at=F("prevention_recorded_at"))
    recorded.filter(group_defused=True).update(group_recorded_at=F("prevention_recorded_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0006_api_token_proxy'),
        ('grids', '0013_incident_submission'),
        ('mediation', '0006_category_name_en'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='disputecase',
            name='dispute_prevention_at',
        ),
        migrations.AddField(
            model_name='disputecase',
            name='escalation_recorded_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='criminal escalation prevention recorded at'),
        ),
        migrations.AddField(
            model_name='disputecase',
            name='group_recorded_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='group dispute defusal recorded at'),
        ),
        migrations.AddIndex(
            model_name='disputecase',
            index=models.Index(condition=models.Q(('escalation_recorded_at__isnull', False)), fields=['escalation_recorded_at'], name='dispute_escalation_at'),
        ),
        migrations.AddIndex(
            model_name='disputecase',
            index=models.Index(condition=models.Q(('group_recorded_at__isnull', False)), fields=['group_recorded_at'], name='dispute_group_at'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
