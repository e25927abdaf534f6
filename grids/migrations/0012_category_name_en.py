"""Incident categories get an English name for pages in English (``LocalizedName``): the default
categories of 0002 get theirs (DOMAIN.md's list) unless an administrator has renamed them since."""

from django.db import migrations, models

# code, the name 0002 gave it, its English name
ENGLISH = [
    ("public_security", "治安隐患", "Public security hazard"),
    ("dispute", "矛盾纠纷", "Dispute"),
    ("fire_hazard", "消防隐患", "Fire hazard"),
    ("work_safety", "安全生产", "Work safety"),
    ("road_traffic", "道路交通安全", "Road and traffic safety"),
    ("sanitation", "环境卫生", "Sanitation and environment"),
    ("city_appearance", "市容设施", "City appearance and facilities"),
    ("housing_safety", "房屋建筑安全", "Housing and building safety"),
    ("food_safety", "食品安全", "Food safety"),
    ("public_service", "民生服务诉求", "Public service request"),
    ("vulnerable_care", "特殊人群关爱", "Care for vulnerable residents"),
    ("other", "其他", "Other"),
]


def name_defaults(apps, schema_editor):
    IncidentCategory = apps.get_model("grids", "IncidentCategory")
    for code, name, english in ENGLISH:
        IncidentCategory.objects.filter(code=code, name=name, name_en="").update(name_en=english)


class Migration(migrations.Migration):
    dependencies = [("grids", "0011_field_labels")]

    operations = [
        migrations.AddField(
            model_name="incidentcategory",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="Shown on pages in English; empty: the name.",
                max_length=100,
                verbose_name="name in English",
            ),
        ),
        migrations.RunPython(name_defaults, migrations.RunPython.noop),
    ]
