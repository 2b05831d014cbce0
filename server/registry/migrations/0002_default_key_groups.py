from django.db import migrations

DEFAULT_KEY_GROUPS = [
    ("elderly", "老年人（60岁以上）", "Elderly (60+)", True),
    ("student", "学生", "Student", False),
    ("company_head", "企业负责人", "Company head", False),
    ("finance_staff", "财会人员", "Finance staff", False),
    ("woman_at_home", "居家女性（20-50岁）", "Woman 20-50 at home", False),
    ("investment_risk", "虚假投资理财风险", "Investment-scam risk", False),
]


def add_groups(apps, schema_editor):
    KeyGroup = apps.get_model("registry", "KeyGroup")
    for code, name, name_en, derived in DEFAULT_KEY_GROUPS:
        KeyGroup.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en, "derived": derived})


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(add_groups, migrations.RunPython.noop)]
