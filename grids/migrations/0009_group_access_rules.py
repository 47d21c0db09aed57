"""Every community gets its group access table at the defaults, with a history row per rule,
so no page or API read has to create it (new communities get theirs when they are created:
grids.models.people.create_group_access_rules)."""

from django.db import migrations
from django.utils import timezone

# The kinds and defaults as they were when this migration was written (grids.models.people).
KINDS = [
    "elderly_empty_nest",
    "elderly_alone",
    "disability",
    "low_income",
    "child_in_difficulty",
    "community_correction",
    "released_prisoner",
    "severe_mental_disorder",
    "drug_user",
    "key_youth",
]


def create_missing_rules(apps, schema_editor):
    Community = apps.get_model("shanglong", "Community")
    GroupAccessRule = apps.get_model("grids", "GroupAccessRule")
    HistoricalGroupAccessRule = apps.get_model("grids", "HistoricalGroupAccessRule")
    existing = set(GroupAccessRule.objects.values_list("community_id", "kind"))
    missing = [
        GroupAccessRule(community_id=community_id, kind=kind, grid_workers=True, department=True)
        for community_id in Community.objects.values_list("pk", flat=True)
        for kind in KINDS
        if (community_id, kind) not in existing
    ]
    if not missing:
        return
    GroupAccessRule.objects.bulk_create(missing, batch_size=500)
    now = timezone.now()
    created = GroupAccessRule.objects.exclude(
        pk__in=HistoricalGroupAccessRule.objects.values("id")
    ).values_list("pk", "community_id", "kind", "grid_workers", "department", "designated_officer_id")
    HistoricalGroupAccessRule.objects.bulk_create(
        [
            HistoricalGroupAccessRule(
                id=pk,
                community_id=community_id,
                kind=kind,
                grid_workers=grid_workers,
                department=department,
                designated_officer_id=officer_id,
                history_date=now,
                history_type="+",
            )
            for pk, community_id, kind, grid_workers, department, officer_id in created
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0008_finding_workflow"),
        ("shanglong", "0003_accesslog_protect_department_unique"),
    ]

    operations = [migrations.RunPython(create_missing_rules, migrations.RunPython.noop)]
