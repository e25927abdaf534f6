"""Dispute categories get an English name for pages in English (``LocalizedName``): the default
categories of 0002 get theirs (DOMAIN.md's list) unless an administrator has renamed them since."""

from django.db import migrations, models

# code, the name 0002 gave it, its English name
ENGLISH = [
    ("marriage_family", "婚姻家庭", "Marriage and family"),
    ("neighbours", "邻里纠纷", "Neighbours"),
    ("housing_homestead", "房屋宅基地", "Housing and homestead"),
    ("contract", "合同纠纷", "Contracts"),
    ("production_business", "生产经营", "Production and business"),
    ("damage_compensation", "损害赔偿", "Compensation for damage"),
    ("land_forest", "山林土地", "Land and forest"),
    ("requisition_demolition", "征地拆迁", "Land requisition and demolition"),
    ("environment", "环境污染", "Environmental pollution"),
    ("labour", "劳动争议", "Labour"),
    ("consumer", "消费纠纷", "Consumer"),
    ("medical", "医疗纠纷", "Medical"),
    ("traffic_accident", "道路交通事故", "Road traffic accident"),
    ("property_management", "物业管理", "Property management"),
    ("other", "其他", "Other"),
]


def name_defaults(apps, schema_editor):
    DisputeCategory = apps.get_model("mediation", "DisputeCategory")
    for code, name, english in ENGLISH:
        DisputeCategory.objects.filter(code=code, name=name, name_en="").update(name_en=english)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0005_field_labels")]

    operations = [
        migrations.AddField(
            model_name="disputecategory",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="Shown on pages in English; empty: the name.",
                max_length=60,
                verbose_name="name in English",
            ),
        ),
        migrations.RunPython(name_defaults, migrations.RunPython.noop),
    ]
