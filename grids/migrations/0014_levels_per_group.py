from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("grids", "0013_party_groups")]

    operations: list = []
