# An escalation event now names the department it took the item from (``Incident._apply``); this
# fills in the events written before, so the departments' record reads every department step from
# the event's own column.

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    """One set-based UPDATE: each escalation of a dispatched or handled item, without a department,
    takes the one of the item's latest dispatch before it (ids order one incident's events: its row
    lock serialises them, each in its own transaction)."""
    IncidentEvent = apps.get_model("grids", "IncidentEvent")
    dispatches = IncidentEvent.objects.filter(
        incident_id=OuterRef("incident_id"), action="dispatch", id__lt=OuterRef("id")
    ).order_by("-id")
    IncidentEvent.objects.filter(
        action="escalate", department__isnull=True, from_status__in=("dispatched", "handling")
    ).update(department_id=Subquery(dispatches.values("department_id")[:1]))


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0009_incident_supporting_departments"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
