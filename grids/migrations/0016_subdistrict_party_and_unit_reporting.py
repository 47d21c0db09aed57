from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("grids", "0015_duty_aware_group_access")]

    operations: list = []
