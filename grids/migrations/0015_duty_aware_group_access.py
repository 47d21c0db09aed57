"""Sensitive groups by duty: the group access table gets a column for the part-time grid workers
and building heads (`grid_helpers`, off for every kind), the existing column now means the grid
head, the full-time grid workers and the community police officer, and severe mental disorder
and drug users are no longer seen by them by default where the community admin never changed
the row (grids.models.people.DEPARTMENT_ONLY_KINDS)."""

from django.db import migrations, models
from django.utils import timezone

# The kinds and the old default as they were when this migration was written.
DEPARTMENT_ONLY_KINDS = ["severe_mental_disorder", "drug_user"]
CHANGE_REASON = "Default changed: seen by the department and the designated officer only (0015)."


def untouched_rules(GroupAccessRule, HistoricalGroupAccessRule):
    """The rows of the two kinds still at the old default that nobody has changed: every change
    of the table through its page, the API or the admin leaves a "~" history row, while the
    rows made at the defaults (a new community's, migration 0009's) have their "+" row only. A
    row the admin saved, even leaving this column on, was looked at: it keeps its setting."""
    changed = HistoricalGroupAccessRule.objects.filter(history_type="~").values("id")
    return GroupAccessRule.objects.filter(kind__in=DEPARTMENT_ONLY_KINDS, grid_workers=True).exclude(pk__in=changed)


def apply_the_new_default(apps, schema_editor):
    GroupAccessRule = apps.get_model("grids", "GroupAccessRule")
    HistoricalGroupAccessRule = apps.get_model("grids", "HistoricalGroupAccessRule")
    rules = list(untouched_rules(GroupAccessRule, HistoricalGroupAccessRule))
    if not rules:
        return
    GroupAccessRule.objects.filter(pk__in=[rule.pk for rule in rules]).update(grid_workers=False)
    # The change is in the table's history like every other, by nobody, with its reason.
    now = timezone.now()
    HistoricalGroupAccessRule.objects.bulk_create(
        [
            HistoricalGroupAccessRule(
                id=rule.pk,
                community_id=rule.community_id,
                kind=rule.kind,
                grid_workers=False,
                grid_helpers=rule.grid_helpers,
                department=rule.department,
                designated_officer_id=rule.designated_officer_id,
                history_date=now,
                history_type="~",
                history_change_reason=CHANGE_REASON,
            )
            for rule in rules
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [("grids", "0014_levels_per_group")]

    operations = [
        migrations.AddField(
            model_name="groupaccessrule",
            name="grid_helpers",
            field=models.BooleanField(
                default=False,
                help_text="Of the resident's grid; by default they see no group.",
                verbose_name="part-time grid workers and building heads",
            ),
        ),
        migrations.AddField(
            model_name="historicalgroupaccessrule",
            name="grid_helpers",
            field=models.BooleanField(
                default=False,
                help_text="Of the resident's grid; by default they see no group.",
                verbose_name="part-time grid workers and building heads",
            ),
        ),
        migrations.AlterField(
            model_name="groupaccessrule",
            name="grid_workers",
            field=models.BooleanField(
                default=True,
                help_text="By duty. By default every group but severe mental disorder and drug users.",
                verbose_name="grid head, full-time grid workers and community police of the resident's grid",
            ),
        ),
        migrations.AlterField(
            model_name="historicalgroupaccessrule",
            name="grid_workers",
            field=models.BooleanField(
                default=True,
                help_text="By duty. By default every group but severe mental disorder and drug users.",
                verbose_name="grid head, full-time grid workers and community police of the resident's grid",
            ),
        ),
        # Forwards only: going back, nobody can tell the flipped rows from the admin's choices.
        migrations.RunPython(apply_the_new_default, migrations.RunPython.noop),
    ]
