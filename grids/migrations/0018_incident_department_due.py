# A department's items by state and deadline, for the departments' record's counts (docs/benchmarks.md
# "List pages' query plans").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0017_incident_inbox_order'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['department', 'status', 'due_at'], name='incident_department_due'),
        ),
    ]
