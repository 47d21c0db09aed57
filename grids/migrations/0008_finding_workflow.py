"""A finding's follow-ups become the timeline of its workflow (shanglong.workflow): each row
gains the action it was and the status it found the finding in. Existing rows are filled from
their own status and the one of the step before them on the same finding."""

from django.db import migrations, models


def fill_steps(apps, schema_editor):
    FindingFollowUp = apps.get_model("grids", "FindingFollowUp")
    previous: dict[int, str] = {}
    rows = FindingFollowUp.objects.order_by("finding_id", "at", "pk").only("pk", "finding_id", "status")
    for row in rows.iterator(chunk_size=2000):
        # A QuerySet.update per row: the app's append-only queryset is not used in migrations.
        FindingFollowUp.objects.filter(pk=row.pk).update(
            action="close" if row.status == "closed" else "follow_up",
            from_status=previous.get(row.finding_id, "open"),
        )
        previous[row.finding_id] = row.status


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0007_unique_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="findingfollowup",
            name="action",
            field=models.CharField(
                choices=[("follow_up", "Followed up"), ("close", "Closed")],
                default="follow_up",
                max_length=32,
                verbose_name="action",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="findingfollowup",
            name="from_status",
            field=models.CharField(
                choices=[("open", "Open"), ("followed_up", "Followed up"), ("closed", "Closed")],
                default="open",
                max_length=16,
                verbose_name="status before",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_steps, migrations.RunPython.noop),
    ]
