"""Seed the default incident categories of DOMAIN.md so they exist in every database.

Names are stored in Chinese (the product's primary language); codes are stable English slugs.
Handling limits by severity: 24 h for urgent safety hazards, 3 days for ordinary items, 7 days for
service requests. Editable later in the admin; this migration never overwrites an existing row.
"""

from django.db import migrations

# code, name, default level, is_dispute, handle hours
DEFAULTS = [
    ("public_security", "治安隐患", "community", False, 24),
    ("dispute", "矛盾纠纷", "community", True, 72),
    ("fire_hazard", "消防隐患", "community", False, 24),
    ("work_safety", "安全生产", "street", False, 24),
    ("road_traffic", "道路交通安全", "community", False, 72),
    ("sanitation", "环境卫生", "community", False, 72),
    ("city_appearance", "市容设施", "community", False, 72),
    ("housing_safety", "房屋建筑安全", "street", False, 24),
    ("food_safety", "食品安全", "street", False, 72),
    ("public_service", "民生服务诉求", "community", False, 168),
    ("vulnerable_care", "特殊人群关爱", "community", False, 72),
    ("other", "其他", "community", False, 168),
]


def seed(apps, schema_editor):
    IncidentCategory = apps.get_model("grids", "IncidentCategory")
    for order, (code, name, level, is_dispute, handle_hours) in enumerate(DEFAULTS, start=1):
        IncidentCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "default_level": level,
                "is_dispute": is_dispute,
                "accept_hours": 2,
                "dispatch_hours": 1,
                "handle_hours": handle_hours,
                "verify_hours": 8,
                "sort_order": order * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
