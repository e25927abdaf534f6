"""Seed the dispute categories of the official monthly reports (DOMAIN.md) in every database.

Names in Chinese (the product's language), stable English slugs as codes. Editable in the admin;
this migration never overwrites an existing row."""

from django.db import migrations

DEFAULTS = [
    ("marriage_family", "婚姻家庭"),
    ("neighbours", "邻里纠纷"),
    ("housing_homestead", "房屋宅基地"),
    ("contract", "合同纠纷"),
    ("production_business", "生产经营"),
    ("damage_compensation", "损害赔偿"),
    ("land_forest", "山林土地"),
    ("requisition_demolition", "征地拆迁"),
    ("environment", "环境污染"),
    ("labour", "劳动争议"),
    ("consumer", "消费纠纷"),
    ("medical", "医疗纠纷"),
    ("traffic_accident", "道路交通事故"),
    ("property_management", "物业管理"),
    ("other", "其他"),
]


def seed(apps, schema_editor):
    DisputeCategory = apps.get_model("mediation", "DisputeCategory")
    for order, (code, name) in enumerate(DEFAULTS, start=1):
        DisputeCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
