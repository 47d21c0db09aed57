"""The flood-point checklist items apply from April (汛前排查), not June: items that came from the
template and still have the old season (June to September) move to April to September. Items a
grid's editors changed or wrote themselves are left as they are."""

from django.db import migrations

OLD_SEASON = (6, 9)
NEW_SEASON = (4, 9)


def move_flood_season(apps, schema_editor, old=OLD_SEASON, new=NEW_SEASON):
    ChecklistItem = apps.get_model("grids", "ChecklistItem")
    ChecklistItem.objects.filter(
        template_key__startswith="flood_point.", season_from=old[0], season_until=old[1]
    ).update(season_from=new[0], season_until=new[1])


def move_flood_season_back(apps, schema_editor):
    move_flood_season(apps, schema_editor, old=NEW_SEASON, new=OLD_SEASON)


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0010_registration_and_visit_ways"),
    ]

    operations = [
        migrations.RunPython(move_flood_season, move_flood_season_back),
    ]
