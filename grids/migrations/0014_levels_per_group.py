"""Levels per group kind (grids.models.groups): no more one control scale (严管/普管/宽管) for
everyone. Today's rows are mapped onto their group's own scale, and the ledger lines whose rule
follows the level get the rule their new level sets. Visits are not touched: they stay on their
lines, and a line's level and rule are kept in its history (simple_history) as they were.

The mapping (old level -> new), per group:
- special groups (elderly, disability, low income, children): strict -> key care (重点关爱);
  normal, light or none -> general care (一般关爱)
- community correction: strict, normal, light stay (严管/普管/宽管 are its scale)
- released prisoner: in the aftercare period when the five years from the start of the
  membership (the release) still run today, else past it; a ledger line takes its resident's
  latest membership's level (in the aftercare period when there is none)
- severe mental disorder: strict -> risk grade 3, normal -> 1, light -> 0
- drug user, key youth: strict -> the department's high, normal -> medium, light -> low
- key enterprises: strict -> red, normal -> yellow, light -> blue
The reverse maps back to strict / normal / light (the highest level of each scale to strict,
the lowest to light, the rest to normal).
"""

import datetime

from django.db import migrations, models
from django.utils import timezone

SPECIAL = {"elderly_empty_nest", "elderly_alone", "disability", "low_income", "child_in_difficulty"}
BY_SCALE = {
    "special": {"strict": "key_care", "normal": "general_care", "light": "general_care", "": "general_care"},
    "community_correction": {"strict": "strict", "normal": "normal", "light": "light"},
    "severe_mental_disorder": {"strict": "risk_3", "normal": "risk_1", "light": "risk_0"},
    "department": {"strict": "dept_high", "normal": "dept_medium", "light": "dept_low"},
    "": {"strict": "red", "normal": "yellow", "light": "blue"},
}
SCALE_OF_GROUP = {
    **dict.fromkeys(SPECIAL, "special"),
    "community_correction": "community_correction",
    "severe_mental_disorder": "severe_mental_disorder",
    "drug_user": "department",
    "key_youth": "department",
    "": "",
}
# The visit rule each new level sets (visits, period, face to face only): grids.models.groups.
WEEKLY_IN_PERSON, TWICE_IN_PERSON, MONTHLY_IN_PERSON = (1, "week", True), (2, "month", True), (1, "month", True)
MONTHLY, WEEKLY = (1, "month", False), (1, "week", False)
RULES = {
    "key_care": WEEKLY_IN_PERSON,
    "general_care": MONTHLY,
    "strict": WEEKLY_IN_PERSON,
    "normal": TWICE_IN_PERSON,
    "light": MONTHLY,
    "aftercare": MONTHLY_IN_PERSON,
    "past_aftercare": MONTHLY,
    "risk_0": MONTHLY,
    "risk_1": TWICE_IN_PERSON,
    "risk_2": TWICE_IN_PERSON,
    "risk_3": WEEKLY_IN_PERSON,
    "risk_4": WEEKLY_IN_PERSON,
    "risk_5": WEEKLY_IN_PERSON,
    "dept_high": WEEKLY_IN_PERSON,
    "dept_medium": TWICE_IN_PERSON,
    "dept_low": MONTHLY,
    "red": WEEKLY_IN_PERSON,
    "orange": TWICE_IN_PERSON,
    "yellow": MONTHLY_IN_PERSON,
    "blue": MONTHLY,
}
BACK = {
    "key_care": "strict",
    "general_care": "normal",
    "aftercare": "normal",
    "past_aftercare": "light",
    "risk_0": "light",
    "risk_1": "normal",
    "risk_2": "normal",
    "risk_3": "strict",
    "risk_4": "strict",
    "risk_5": "strict",
    "dept_high": "strict",
    "dept_medium": "normal",
    "dept_low": "light",
    "red": "strict",
    "orange": "normal",
    "yellow": "normal",
    "blue": "light",
}


def years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def aftercare_level(since, today):
    if since is None:
        return "aftercare"
    return "aftercare" if years_after(since, 5) > today else "past_aftercare"


def new_level(group, old, since, today):
    if group == "released_prisoner":
        return aftercare_level(since, today)
    table = BY_SCALE[SCALE_OF_GROUP[group]]
    return table.get(old or "", table.get("normal"))


def rule_for(group, level):
    if group == "elderly_alone" and level == "general_care":
        return WEEKLY
    return RULES[level]


def forwards(apps, schema_editor):
    """Set-based: one UPDATE per (group, old level), and per rule for the lines; only released
    prisoners are read row by row (their level depends on each one's date of release)."""
    GroupMembership = apps.get_model("grids", "GroupMembership")
    LedgerSubject = apps.get_model("grids", "LedgerSubject")
    today = timezone.localdate()
    for group, scale in SCALE_OF_GROUP.items():
        if not group:
            continue
        for old, level in BY_SCALE[scale].items():
            GroupMembership.objects.filter(kind=group, level=old).update(level=level)
        # Anything else (a blank level on a key person): the scale's counterpart of "normal".
        GroupMembership.objects.filter(kind=group).exclude(level__in=BY_SCALE[scale].values()).update(
            level=BY_SCALE[scale]["normal"]
        )
    latest_release: dict[int, datetime.date] = {}
    prisoners = GroupMembership.objects.filter(kind="released_prisoner").order_by("pk")
    for pk, resident_id, since in prisoners.values_list("pk", "resident_id", "since").iterator():
        known = latest_release.get(resident_id)
        latest_release[resident_id] = max(known, since) if known else since
        GroupMembership.objects.filter(pk=pk).update(level=aftercare_level(since, today))
    for group, scale in SCALE_OF_GROUP.items():
        for old, level in BY_SCALE[scale].items():
            lines = LedgerSubject.objects.filter(group=group, level=old)
            visits, period, in_person = rule_for(group, level)
            lines.filter(rule_is_custom=False).update(
                level=level, visits_required=visits, period=period, face_to_face_only=in_person
            )
            lines.update(level=level)
        leftover = LedgerSubject.objects.filter(group=group).exclude(level__in=BY_SCALE[scale].values())
        level = BY_SCALE[scale]["normal"]
        visits, period, in_person = rule_for(group, level)
        leftover.filter(rule_is_custom=False).update(
            level=level, visits_required=visits, period=period, face_to_face_only=in_person
        )
        leftover.update(level=level)
    lines = LedgerSubject.objects.filter(group="released_prisoner").order_by("pk")
    for pk, resident_id, custom in lines.values_list("pk", "resident_id", "rule_is_custom").iterator():
        level = aftercare_level(latest_release.get(resident_id), today)
        changes = {"level": level}
        if not custom:
            visits, period, in_person = rule_for("released_prisoner", level)
            changes.update(visits_required=visits, period=period, face_to_face_only=in_person)
        LedgerSubject.objects.filter(pk=pk).update(**changes)


def backwards(apps, schema_editor):
    # The history too: its rows written at the new scale would not fit the old column.
    for name in ("GroupMembership", "LedgerSubject", "HistoricalGroupMembership", "HistoricalLedgerSubject"):
        model = apps.get_model("grids", name)
        for new, old in BACK.items():
            model.objects.filter(level=new).update(level=old)


class Migration(migrations.Migration):
    # PostgreSQL refuses to alter a table with pending trigger events (the deferred foreign-key
    # checks of the rows the data step updated) in the same transaction: the data step runs in
    # its own transaction, the schema steps around it each in theirs.
    atomic = False

    dependencies = [("grids", "0013_party_groups")]

    operations = [
        migrations.AlterField(
            model_name="groupmembership",
            name="level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("care level", [("key_care", "Key care (重点关爱)"), ("general_care", "General care (一般关爱)")]),
                    (
                        "control level",
                        [
                            ("strict", "Strict control (严管)"),
                            ("normal", "Normal control (普管)"),
                            ("light", "Light control (宽管)"),
                        ],
                    ),
                    (
                        "aftercare",
                        [("aftercare", "In the aftercare period"), ("past_aftercare", "Past the aftercare period")],
                    ),
                    (
                        "risk grade",
                        [
                            ("risk_0", "Risk grade 0"),
                            ("risk_1", "Risk grade 1"),
                            ("risk_2", "Risk grade 2"),
                            ("risk_3", "Risk grade 3"),
                            ("risk_4", "Risk grade 4"),
                            ("risk_5", "Risk grade 5"),
                        ],
                    ),
                    (
                        "level set by the department",
                        [
                            ("dept_high", "High (set by the department)"),
                            ("dept_medium", "Medium (set by the department)"),
                            ("dept_low", "Low (set by the department)"),
                        ],
                    ),
                    (
                        "risk colour",
                        [
                            ("red", "Red (major risk)"),
                            ("orange", "Orange (high risk)"),
                            ("yellow", "Yellow (moderate risk)"),
                            ("blue", "Blue (low risk)"),
                        ],
                    ),
                ],
                help_text="On the scale of the group (see grids.models.groups); it sets how often they are visited.",
                max_length=16,
                verbose_name="level",
            ),
        ),
        migrations.AlterField(
            model_name="historicalgroupmembership",
            name="level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("care level", [("key_care", "Key care (重点关爱)"), ("general_care", "General care (一般关爱)")]),
                    (
                        "control level",
                        [
                            ("strict", "Strict control (严管)"),
                            ("normal", "Normal control (普管)"),
                            ("light", "Light control (宽管)"),
                        ],
                    ),
                    (
                        "aftercare",
                        [("aftercare", "In the aftercare period"), ("past_aftercare", "Past the aftercare period")],
                    ),
                    (
                        "risk grade",
                        [
                            ("risk_0", "Risk grade 0"),
                            ("risk_1", "Risk grade 1"),
                            ("risk_2", "Risk grade 2"),
                            ("risk_3", "Risk grade 3"),
                            ("risk_4", "Risk grade 4"),
                            ("risk_5", "Risk grade 5"),
                        ],
                    ),
                    (
                        "level set by the department",
                        [
                            ("dept_high", "High (set by the department)"),
                            ("dept_medium", "Medium (set by the department)"),
                            ("dept_low", "Low (set by the department)"),
                        ],
                    ),
                    (
                        "risk colour",
                        [
                            ("red", "Red (major risk)"),
                            ("orange", "Orange (high risk)"),
                            ("yellow", "Yellow (moderate risk)"),
                            ("blue", "Blue (low risk)"),
                        ],
                    ),
                ],
                help_text="On the scale of the group (see grids.models.groups); it sets how often they are visited.",
                max_length=16,
                verbose_name="level",
            ),
        ),
        migrations.AlterField(
            model_name="historicalledgersubject",
            name="level",
            field=models.CharField(
                choices=[
                    ("care level", [("key_care", "Key care (重点关爱)"), ("general_care", "General care (一般关爱)")]),
                    (
                        "control level",
                        [
                            ("strict", "Strict control (严管)"),
                            ("normal", "Normal control (普管)"),
                            ("light", "Light control (宽管)"),
                        ],
                    ),
                    (
                        "aftercare",
                        [("aftercare", "In the aftercare period"), ("past_aftercare", "Past the aftercare period")],
                    ),
                    (
                        "risk grade",
                        [
                            ("risk_0", "Risk grade 0"),
                            ("risk_1", "Risk grade 1"),
                            ("risk_2", "Risk grade 2"),
                            ("risk_3", "Risk grade 3"),
                            ("risk_4", "Risk grade 4"),
                            ("risk_5", "Risk grade 5"),
                        ],
                    ),
                    (
                        "level set by the department",
                        [
                            ("dept_high", "High (set by the department)"),
                            ("dept_medium", "Medium (set by the department)"),
                            ("dept_low", "Low (set by the department)"),
                        ],
                    ),
                    (
                        "risk colour",
                        [
                            ("red", "Red (major risk)"),
                            ("orange", "Orange (high risk)"),
                            ("yellow", "Yellow (moderate risk)"),
                            ("blue", "Blue (low risk)"),
                        ],
                    ),
                ],
                help_text=(
                    "On the scale of the group: the risk colour of an enterprise, a person's care level, control "
                    "level, aftercare, risk grade or the level their department set. It sets the visit rule."
                ),
                max_length=16,
                verbose_name="level",
            ),
        ),
        migrations.AlterField(
            model_name="ledgersubject",
            name="level",
            field=models.CharField(
                choices=[
                    ("care level", [("key_care", "Key care (重点关爱)"), ("general_care", "General care (一般关爱)")]),
                    (
                        "control level",
                        [
                            ("strict", "Strict control (严管)"),
                            ("normal", "Normal control (普管)"),
                            ("light", "Light control (宽管)"),
                        ],
                    ),
                    (
                        "aftercare",
                        [("aftercare", "In the aftercare period"), ("past_aftercare", "Past the aftercare period")],
                    ),
                    (
                        "risk grade",
                        [
                            ("risk_0", "Risk grade 0"),
                            ("risk_1", "Risk grade 1"),
                            ("risk_2", "Risk grade 2"),
                            ("risk_3", "Risk grade 3"),
                            ("risk_4", "Risk grade 4"),
                            ("risk_5", "Risk grade 5"),
                        ],
                    ),
                    (
                        "level set by the department",
                        [
                            ("dept_high", "High (set by the department)"),
                            ("dept_medium", "Medium (set by the department)"),
                            ("dept_low", "Low (set by the department)"),
                        ],
                    ),
                    (
                        "risk colour",
                        [
                            ("red", "Red (major risk)"),
                            ("orange", "Orange (high risk)"),
                            ("yellow", "Yellow (moderate risk)"),
                            ("blue", "Blue (low risk)"),
                        ],
                    ),
                ],
                help_text=(
                    "On the scale of the group: the risk colour of an enterprise, a person's care level, control "
                    "level, aftercare, risk grade or the level their department set. It sets the visit rule."
                ),
                max_length=16,
                verbose_name="level",
            ),
        ),
        migrations.RunPython(forwards, backwards, atomic=True),
        migrations.AddConstraint(
            model_name="groupmembership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "kind__in",
                            ["child_in_difficulty", "disability", "elderly_alone", "elderly_empty_nest", "low_income"],
                        ),
                        ("level__in", ["key_care", "general_care"]),
                    ),
                    models.Q(("kind__in", ["community_correction"]), ("level__in", ["strict", "normal", "light"])),
                    models.Q(("kind__in", ["released_prisoner"]), ("level__in", ["aftercare", "past_aftercare"])),
                    models.Q(
                        ("kind__in", ["severe_mental_disorder"]),
                        ("level__in", ["risk_0", "risk_1", "risk_2", "risk_3", "risk_4", "risk_5"]),
                    ),
                    models.Q(
                        ("kind__in", ["drug_user", "key_youth"]),
                        ("level__in", ["dept_high", "dept_medium", "dept_low"]),
                    ),
                    _connector="OR",
                ),
                name="groupmembership_level_matches_kind",
                violation_error_message="The level is not on the scale of this group.",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgersubject",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "group__in",
                            ["child_in_difficulty", "disability", "elderly_alone", "elderly_empty_nest", "low_income"],
                        ),
                        ("level__in", ["key_care", "general_care"]),
                    ),
                    models.Q(("group__in", ["community_correction"]), ("level__in", ["strict", "normal", "light"])),
                    models.Q(("group__in", ["released_prisoner"]), ("level__in", ["aftercare", "past_aftercare"])),
                    models.Q(
                        ("group__in", ["severe_mental_disorder"]),
                        ("level__in", ["risk_0", "risk_1", "risk_2", "risk_3", "risk_4", "risk_5"]),
                    ),
                    models.Q(
                        ("group__in", ["drug_user", "key_youth"]),
                        ("level__in", ["dept_high", "dept_medium", "dept_low"]),
                    ),
                    models.Q(("group__in", [""]), ("level__in", ["red", "orange", "yellow", "blue"])),
                    _connector="OR",
                ),
                name="ledgersubject_level_matches_group",
                violation_error_message="The level is not on the scale of this group.",
            ),
        ),
    ]
