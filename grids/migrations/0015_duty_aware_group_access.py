from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("grids", "0014_levels_per_group")]

    operations: list = []
