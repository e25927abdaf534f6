# The handlers' inbox order (grids.models.INBOX_ORDER) as an index: with finished items in the list
# a district centre's inbox sorted every item of the district (docs/benchmarks.md "List pages' query
# plans").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grids', '0016_supporters_by'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['due_at', '-reported_at', '-id'], name='incident_inbox_order'),
        ),
    ]
