"""The subdistrict's party organisations (街道党工委; a joint committee owned by the subdistrict and
spanning communities), the joint meeting's roster, and the units' registration with the community
(单位双报到) with its three lists and their timeline. Existing organisations keep their community."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

import shanglong.validators


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0015_duty_aware_group_access"),
        ("shanglong", "0007_audit_admin_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalJointMeetingMember",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "seat_kind",
                    models.CharField(
                        choices=[
                            ("subdistrict_committee", "Subdistrict working committee"),
                            ("community_committee", "Community party committee"),
                            ("unit_organisation", "Resident unit or enterprise party organisation"),
                            ("department", "Department"),
                        ],
                        max_length=32,
                        verbose_name="member kind",
                    ),
                ),
                ("representative", models.CharField(max_length=100, verbose_name="representative")),
                (
                    "position",
                    models.CharField(
                        blank=True, help_text="For example 党委书记.", max_length=100, verbose_name="position"
                    ),
                ),
                ("since", models.DateField(default=django.utils.timezone.localdate, verbose_name="member since")),
                ("until", models.DateField(blank=True, null=True, verbose_name="last day as member")),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
            ],
            options={
                "verbose_name": "historical joint meeting member",
                "verbose_name_plural": "historical joint meeting members",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalUnitRegistration",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                (
                    "registered_on",
                    models.DateField(default=django.utils.timezone.localdate, verbose_name="registered on"),
                ),
                ("ended_on", models.DateField(blank=True, null=True, verbose_name="ended on")),
                ("contact_name", models.CharField(max_length=100, verbose_name="contact person")),
                (
                    "contact_phone",
                    models.CharField(
                        blank=True,
                        max_length=11,
                        validators=[shanglong.validators.validate_mobile],
                        verbose_name="contact's mobile",
                    ),
                ),
                ("agreement_signed_on", models.DateField(blank=True, null=True, verbose_name="agreement signed on")),
                ("agreement_until", models.DateField(blank=True, null=True, verbose_name="agreement valid until")),
                (
                    "agreement_summary",
                    models.TextField(
                        blank=True,
                        help_text="What each side undertakes, in a few lines.",
                        verbose_name="what the agreement says",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
            ],
            options={
                "verbose_name": "historical unit registration",
                "verbose_name_plural": "historical unit registrations",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="JointMeetingMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "seat_kind",
                    models.CharField(
                        choices=[
                            ("subdistrict_committee", "Subdistrict working committee"),
                            ("community_committee", "Community party committee"),
                            ("unit_organisation", "Resident unit or enterprise party organisation"),
                            ("department", "Department"),
                        ],
                        max_length=32,
                        verbose_name="member kind",
                    ),
                ),
                ("representative", models.CharField(max_length=100, verbose_name="representative")),
                (
                    "position",
                    models.CharField(
                        blank=True, help_text="For example 党委书记.", max_length=100, verbose_name="position"
                    ),
                ),
                ("since", models.DateField(default=django.utils.timezone.localdate, verbose_name="member since")),
                ("until", models.DateField(blank=True, null=True, verbose_name="last day as member")),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
            ],
            options={
                "verbose_name": "joint meeting member",
                "verbose_name_plural": "joint meeting members",
                "ordering": ["committee_id", "order", "since", "pk"],
            },
        ),
        migrations.CreateModel(
            name="UnitRegistration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "registered_on",
                    models.DateField(default=django.utils.timezone.localdate, verbose_name="registered on"),
                ),
                ("ended_on", models.DateField(blank=True, null=True, verbose_name="ended on")),
                ("contact_name", models.CharField(max_length=100, verbose_name="contact person")),
                (
                    "contact_phone",
                    models.CharField(
                        blank=True,
                        max_length=11,
                        validators=[shanglong.validators.validate_mobile],
                        verbose_name="contact's mobile",
                    ),
                ),
                ("agreement_signed_on", models.DateField(blank=True, null=True, verbose_name="agreement signed on")),
                ("agreement_until", models.DateField(blank=True, null=True, verbose_name="agreement valid until")),
                (
                    "agreement_summary",
                    models.TextField(
                        blank=True,
                        help_text="What each side undertakes, in a few lines.",
                        verbose_name="what the agreement says",
                    ),
                ),
            ],
            options={
                "verbose_name": "unit registration",
                "verbose_name_plural": "unit registrations",
                "ordering": ["community_id", "-registered_on", "pk"],
            },
        ),
        migrations.CreateModel(
            name="UnitRegistrationItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "item_list",
                    models.CharField(
                        choices=[("resource", "Resource list"), ("need", "Need list"), ("project", "Project list")],
                        max_length=16,
                        verbose_name="list",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Waiting to be matched"),
                            ("matched", "Matched"),
                            ("in_progress", "Under way"),
                            ("done", "Done"),
                            ("dropped", "Dropped"),
                        ],
                        default="open",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="added at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="done or dropped at")),
            ],
            options={
                "verbose_name": "list item",
                "verbose_name_plural": "list items",
                "ordering": ["registration_id", "item_list", "created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="UnitRegistrationItemStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
                ("action", models.CharField(max_length=32, verbose_name="action")),
                ("from_status", models.CharField(max_length=32, verbose_name="status before")),
                ("status", models.CharField(max_length=32, verbose_name="status afterwards")),
                ("note", models.TextField(blank=True, verbose_name="note")),
            ],
            options={
                "verbose_name": "list item step",
                "verbose_name_plural": "list item steps",
                "ordering": ["item_id", "at", "pk"],
            },
        ),
        migrations.AddField(
            model_name="historicalpartyorganisation",
            name="subdistrict",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="For the subdistrict's own organisations (街道党工委, a joint committee of several communities).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="shanglong.subdistrict",
                verbose_name="subdistrict",
            ),
        ),
        migrations.AddField(
            model_name="partyorganisation",
            name="communities",
            field=models.ManyToManyField(
                blank=True,
                help_text="For a business-district joint committee: the communities its work spans.",
                related_name="spanning_organisations",
                to="shanglong.community",
                verbose_name="communities it spans",
            ),
        ),
        migrations.AddField(
            model_name="partyorganisation",
            name="subdistrict",
            field=models.ForeignKey(
                blank=True,
                help_text="For the subdistrict's own organisations (街道党工委, a joint committee of several communities).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="party_organisations",
                to="shanglong.subdistrict",
                verbose_name="subdistrict",
            ),
        ),
        migrations.AlterField(
            model_name="historicalpartyorganisation",
            name="kind",
            field=models.CharField(
                choices=[
                    ("subdistrict_committee", "Subdistrict working committee"),
                    ("community_committee", "Community party committee"),
                    ("district_joint_committee", "Business-district joint party committee"),
                    ("grid_branch", "Grid party branch"),
                    ("unit_organisation", "Resident unit or enterprise party organisation"),
                    ("party_group", "Party group"),
                ],
                max_length=32,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="partyorganisation",
            name="community",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="party_organisations",
                to="shanglong.community",
                verbose_name="community",
            ),
        ),
        migrations.AlterField(
            model_name="partyorganisation",
            name="kind",
            field=models.CharField(
                choices=[
                    ("subdistrict_committee", "Subdistrict working committee"),
                    ("community_committee", "Community party committee"),
                    ("district_joint_committee", "Business-district joint party committee"),
                    ("grid_branch", "Grid party branch"),
                    ("unit_organisation", "Resident unit or enterprise party organisation"),
                    ("party_group", "Party group"),
                ],
                max_length=32,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="partyorganisation",
            constraint=models.UniqueConstraint(
                fields=("subdistrict", "name"),
                name="partyorganisation_unique_name_per_subdistrict",
                violation_error_message="%(subdistrict)s already has an organisation of this name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="partyorganisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("community__isnull", False), ("subdistrict__isnull", True)),
                    models.Q(("community__isnull", True), ("subdistrict__isnull", False)),
                    _connector="OR",
                ),
                name="partyorganisation_one_owner",
                violation_error_message="An organisation belongs to a community or to a subdistrict: choose one.",
            ),
        ),
        migrations.AddConstraint(
            model_name="partyorganisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("subdistrict__isnull", True),
                    ("kind__in", ("subdistrict_committee", "district_joint_committee")),
                    _connector="OR",
                ),
                name="partyorganisation_subdistrict_kinds",
                violation_error_message="A subdistrict owns only its working committee and business-district joint committees.",
            ),
        ),
        migrations.AddConstraint(
            model_name="partyorganisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("community__isnull", True),
                    models.Q(("kind", "subdistrict_committee"), _negated=True),
                    _connector="OR",
                ),
                name="partyorganisation_working_committee_of_subdistrict",
                violation_error_message="The subdistrict working committee belongs to the subdistrict.",
            ),
        ),
        migrations.AddField(
            model_name="historicaljointmeetingmember",
            name="committee",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                limit_choices_to={"kind": "district_joint_committee"},
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="grids.partyorganisation",
                verbose_name="joint committee",
            ),
        ),
        migrations.AddField(
            model_name="historicaljointmeetingmember",
            name="department",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="shanglong.department",
                verbose_name="department",
            ),
        ),
        migrations.AddField(
            model_name="historicaljointmeetingmember",
            name="history_user",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="historicaljointmeetingmember",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="grids.partyorganisation",
                verbose_name="party organisation",
            ),
        ),
        migrations.AddField(
            model_name="historicalunitregistration",
            name="community",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="shanglong.community",
                verbose_name="community",
            ),
        ),
        migrations.AddField(
            model_name="historicalunitregistration",
            name="history_user",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="historicalunitregistration",
            name="unit_organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                limit_choices_to={"kind": "unit_organisation"},
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="grids.partyorganisation",
                verbose_name="unit party organisation",
            ),
        ),
        migrations.AddField(
            model_name="jointmeetingmember",
            name="committee",
            field=models.ForeignKey(
                limit_choices_to={"kind": "district_joint_committee"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="joint_meeting_seats",
                to="grids.partyorganisation",
                verbose_name="joint committee",
            ),
        ),
        migrations.AddField(
            model_name="jointmeetingmember",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="joint_meeting_memberships",
                to="shanglong.department",
                verbose_name="department",
            ),
        ),
        migrations.AddField(
            model_name="jointmeetingmember",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="joint_meeting_memberships",
                to="grids.partyorganisation",
                verbose_name="party organisation",
            ),
        ),
        migrations.AddField(
            model_name="unitregistration",
            name="community",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="unit_registrations",
                to="shanglong.community",
                verbose_name="community",
            ),
        ),
        migrations.AddField(
            model_name="unitregistration",
            name="unit_organisation",
            field=models.ForeignKey(
                limit_choices_to={"kind": "unit_organisation"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="unit_registrations",
                to="grids.partyorganisation",
                verbose_name="unit party organisation",
            ),
        ),
        migrations.AddField(
            model_name="unitregistrationitem",
            name="registration",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="items",
                to="grids.unitregistration",
                verbose_name="unit registration",
            ),
        ),
        migrations.AddField(
            model_name="unitregistrationitemstep",
            name="by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by",
            ),
        ),
        migrations.AddField(
            model_name="unitregistrationitemstep",
            name="item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="steps",
                to="grids.unitregistrationitem",
                verbose_name="list item",
            ),
        ),
        migrations.AddConstraint(
            model_name="jointmeetingmember",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("department__isnull", False), ("organisation__isnull", True), ("seat_kind", "department")
                    ),
                    models.Q(
                        models.Q(("seat_kind", "department"), _negated=True),
                        ("department__isnull", True),
                        ("organisation__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="jointmeetingmember_organisation_or_department",
                violation_error_message="A department's seat names the department; any other names the organisation.",
            ),
        ),
        migrations.AddConstraint(
            model_name="jointmeetingmember",
            constraint=models.CheckConstraint(
                condition=models.Q(("until__isnull", True), ("until__gte", models.F("since")), _connector="OR"),
                name="jointmeetingmember_until_after_since",
                violation_error_message="The last day as member cannot be before the first.",
            ),
        ),
        migrations.AddConstraint(
            model_name="jointmeetingmember",
            constraint=models.UniqueConstraint(
                condition=models.Q(("until__isnull", True)),
                fields=("committee", "organisation"),
                name="jointmeetingmember_one_open_seat_per_organisation",
            ),
        ),
        migrations.AddConstraint(
            model_name="jointmeetingmember",
            constraint=models.UniqueConstraint(
                condition=models.Q(("until__isnull", True)),
                fields=("committee", "department"),
                name="jointmeetingmember_one_open_seat_per_department",
            ),
        ),
        migrations.AddConstraint(
            model_name="unitregistration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("ended_on__isnull", True), ("ended_on__gte", models.F("registered_on")), _connector="OR"
                ),
                name="unitregistration_ended_after_registered",
                violation_error_message="The end cannot be before the registration.",
            ),
        ),
        migrations.AddConstraint(
            model_name="unitregistration",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("agreement_until__isnull", True),
                    models.Q(
                        ("agreement_signed_on__isnull", False),
                        ("agreement_until__gte", models.F("agreement_signed_on")),
                    ),
                    _connector="OR",
                ),
                name="unitregistration_agreement_until_after_signed",
                violation_error_message="The agreement cannot end before it was signed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="unitregistration",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ended_on__isnull", True)),
                fields=("unit_organisation", "community"),
                name="unitregistration_one_open_per_unit",
                violation_error_message="This unit is already registered with the community; end that first.",
            ),
        ),
        migrations.AddIndex(
            model_name="unitregistrationitem",
            index=models.Index(fields=["registration", "item_list", "status"], name="unititem_registration_list"),
        ),
    ]
