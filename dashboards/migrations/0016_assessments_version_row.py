"""The "assessments" version row (dashboards.assessment_models.ASSESSMENTS_VERSION) from the first
deploy: the assessment API's Last-Modified is its ``changed_at``, and the row used to appear only at
the first change to a scheme, an item or a run, so until then the answers had an ETag and no
Last-Modified. An existing row keeps its value and date (a version going back would let a client's
tag of a later state match again); one without a date gets one. Backwards the row is left: the
signals may have moved it since, and the code reads a missing row as version 0 anyway."""

from django.db import migrations
from django.utils import timezone

VERSION_KEY = "assessments"


def create_version_row(apps, schema_editor):
    SequenceCounter = apps.get_model("governance", "SequenceCounter")
    now = timezone.now()
    row, created = SequenceCounter.objects.get_or_create(
        key=VERSION_KEY, year=0, defaults={"value": 0, "changed_at": now}
    )
    if not created and row.changed_at is None:
        SequenceCounter.objects.filter(pk=row.pk, changed_at=None).update(changed_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("dashboards", "0015_veto_withdrawal"),
        ("governance", "0013_user_must_change_password"),
    ]

    operations = [
        migrations.RunPython(create_version_row, migrations.RunPython.noop, elidable=False),
    ]
