"""Forms of the visit ledger: subjects, visits (and their corrections), the list's filters.

Every choice offered is bounded by the person's scope: grids by editable_grid_ids, group
memberships by GroupMembership.objects.visible_to, people and departments by their visible_to.
Only the way of a visit is asked for; photos, a signature and a position are never required
(基层减负).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.access import editable_grid_ids
from grids.forms.people import LevelSelect
from grids.models import (
    COMMUNITY_WORK_ROLES,
    Grid,
    GridAssignment,
    GroupMembership,
    LedgerStatus,
    LedgerSubject,
    SubjectKind,
    Visit,
    VisitPeriod,
    VisitWay,
    kind_for_group,
)
from grids.models.groups import level_error
from shanglong.forms import AttachmentField, PhotosField, PositionFields
from shanglong.models import Department, User

# A visit recorded a little ahead of the server's clock (a phone's clock runs fast) is fine.
CLOCK_SLACK = datetime.timedelta(minutes=10)


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class MembershipSelect(forms.Select):
    """Each membership option says its group (data-group), for the level select (LevelSelect)."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-group"] = instance.kind
        return option


class MembershipChoiceField(forms.ModelChoiceField):
    widget = MembershipSelect

    def label_from_instance(self, obj: GroupMembership) -> str:
        return f"{obj.resident.name} · {obj.get_kind_display()} · {obj.get_level_display()}"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


# --- Visits --------------------------------------------------------------------------------


class VisitForm(PositionFields):
    """A visit: the way is preselected from the subject's rule and the time is now, so saving
    right away records a visit; everything else is optional."""

    way = forms.ChoiceField(label=_("Way"), choices=VisitWay.choices, widget=forms.RadioSelect)
    visited_at = forms.DateTimeField(
        label=_("Time of the visit"), widget=LocalDateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    joint_department = forms.ModelChoiceField(
        label=_("With the department"), queryset=Department.objects.none(), required=False
    )
    workers = PeopleField(
        label=_("Who else came"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    found = forms.CharField(
        label=_("What was found"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    help_given = forms.CharField(
        label=_("Help given"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    problems = forms.CharField(
        label=_("Problems raised"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    raise_finding = forms.BooleanField(
        label=_("Report the problem as a finding of the grid"),
        required=False,
        help_text=_("Everyone who works in the grid sees findings: describe the problem, not the person's group."),
    )
    photos = PhotosField(label=_("Photos"))
    signature = AttachmentField(
        label=_("Signature of the person visited"),
        required=False,
        images_only=True,
        help_text=_("A photo of the signature, if they signed on paper."),
    )

    field_order = [
        "way",
        "visited_at",
        "joint_department",
        "workers",
        "found",
        "help_given",
        "problems",
        "raise_finding",
        "photos",
        "signature",
        "latitude",
        "longitude",
    ]

    def __init__(self, *args: Any, subject: LedgerSubject, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("way", subject.suggested_way())
        kwargs["initial"].setdefault("visited_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.user = user
        self.fields["joint_department"].queryset = Department.objects.visible_to(user).order_by("level", "name")
        # Who else may have come: the subject's team and the people on duty in its grid.
        on_duty = GridAssignment.objects.current().filter(grid_id=subject.grid_id).values("user_id")
        team = LedgerSubject.team.through.objects.filter(ledgersubject_id=subject.pk).values("user_id")
        self.fields["workers"].queryset = (
            User.objects.visible_to(user)
            .filter(is_active=True, role__in=COMMUNITY_WORK_ROLES)
            .filter(Q(pk__in=on_duty) | Q(pk__in=team))
            .exclude(pk=user.pk)
            .order_by("full_name", "username")
        )
        if subject.face_to_face_only:
            self.fields["way"].help_text = _("This subject's rule counts only visits made in person.")

    def clean_visited_at(self) -> datetime.datetime:
        visited_at = self.cleaned_data["visited_at"]
        if visited_at > timezone.now() + CLOCK_SLACK:
            raise forms.ValidationError(_("A visit cannot be in the future."), code="future")
        if timezone.localtime(visited_at).date() < self.subject.entered_on - datetime.timedelta(days=366):
            raise forms.ValidationError(_("This is more than a year before the subject entered the ledger."))
        return visited_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("way") == VisitWay.JOINT and not cleaned.get("joint_department"):
            self.add_error("joint_department", _("Choose the department you visited with."))
        if cleaned.get("way") != VisitWay.JOINT:
            cleaned["joint_department"] = None
        if cleaned.get("raise_finding") and not (cleaned.get("problems") or "").strip():
            self.add_error("problems", _("Describe the problem to report it as a finding."))
        return cleaned

    def visit_values(self) -> dict[str, Any]:
        """The cleaned values as record_visit's keyword arguments."""
        data = self.cleaned_data
        return {
            "way": data["way"],
            "visited_at": data["visited_at"],
            "joint_department": data.get("joint_department"),
            "workers": list(data.get("workers") or []),
            "found": data.get("found") or "",
            "help_given": data.get("help_given") or "",
            "problems": data.get("problems") or "",
            "raise_finding": bool(data.get("raise_finding")),
            "photos": data.get("photos") or [],
            "signature": data.get("signature"),
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
        }


class VisitCorrectionForm(VisitForm):
    """A correction: the visit as it should have been recorded, and why."""

    correction_reason = forms.CharField(label=_("Why it is corrected"), max_length=200)

    field_order = ["correction_reason", *VisitForm.field_order]

    def __init__(self, *args: Any, visit: Visit, user: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        for name in ("way", "joint_department", "found", "help_given", "problems", "latitude", "longitude"):
            initial.setdefault(name, getattr(visit, name))
        initial.setdefault("visited_at", timezone.localtime(visit.visited_at).replace(second=0, microsecond=0))
        initial.setdefault("workers", [worker.pk for worker in visit.workers.all()])
        super().__init__(*args, subject=visit.subject, user=user, **kwargs)
        self.visit = visit


# --- Subjects ------------------------------------------------------------------------------


class LedgerSubjectForm(forms.ModelForm):
    """A line of the ledger. For a special group or a key person, choose the resident's group
    membership: the name, grid, group, department and level come from it. For an enterprise,
    give its name and grid. The rule follows the level unless it is made custom."""

    membership = MembershipChoiceField(
        label=_("Resident and group"),
        queryset=GroupMembership.objects.none(),
        required=False,
        help_text=_("For a special group or a key person: only the groups you may see are offered."),
    )
    team = PeopleField(
        label=_("Responsible team (包保)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = LedgerSubject
        fields = [
            "kind",
            "membership",
            "name",
            "grid",
            "department",
            "level",
            "team",
            "rule_is_custom",
            "visits_required",
            "period",
            "face_to_face_only",
            "entered_on",
            "note",
        ]
        widgets = {"entered_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        grids = Grid.objects.visible_to(editor).filter(pk__in=editable_grid_ids(editor)).active()
        self.fields["grid"].queryset = grids.order_by("community_id", "code")
        self.fields["grid"].required = False
        self.fields["name"].required = False
        self.fields["membership"].queryset = (
            GroupMembership.objects.visible_to(editor)
            .current()
            .filter(resident__dwelling__building__compound__grid__in=grids)
            .select_related("resident")
            .order_by("resident__name", "kind")
        )
        self.fields["department"].queryset = Department.objects.visible_to(editor).order_by("level", "name")
        communities = grids.values("community_id")
        self.fields["team"].queryset = (
            User.objects.visible_to(editor)
            .filter(is_active=True, role__in=COMMUNITY_WORK_ROLES, community_id__in=communities)
            .order_by("full_name", "username")
        )
        self.fields["level"].required = False
        self.fields["level"].help_text = _(
            "An enterprise's risk colour; for a group member, leave empty to take the level of their membership."
        )
        self.fields["level"].widget = LevelSelect(group_fields="kind membership")
        self.fields["level"].widget.choices = self.fields["level"].choices
        self.fields["visits_required"].required = False
        self.fields["period"].required = False
        if self.instance.pk is not None:
            self.fields["kind"].disabled = True
            self.fields["team"].initial = list(self.instance.team.values_list("pk", flat=True))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind") or self.instance.kind
        membership: GroupMembership | None = cleaned.get("membership")
        if kind == SubjectKind.KEY_ENTERPRISE:
            problem = level_error("", cleaned.get("level") or "")
            if problem:
                self.add_error("level", problem)
            if membership is not None:
                self.add_error("membership", _("An enterprise is not a group member: leave this empty."))
            if not (cleaned.get("name") or "").strip():
                self.add_error("name", _("Give the enterprise's name."))
            if cleaned.get("grid") is None:
                self.add_error("grid", _("Choose the grid."))
            self.instance.resident = None
            self.instance.group = ""
        elif membership is not None:
            if kind_for_group(membership.kind) != kind:
                self.add_error("membership", _("This group is of the other kind."))
            line = self.instance
            line.name, line.department = cleaned.get("name") or "", cleaned.get("department")
            line.level, line.rule_is_custom = cleaned.get("level") or "", bool(cleaned.get("rule_is_custom"))
            line.follow_membership(membership)
            home = line.grid if line.grid_id is not None else None
            if home is None or not self.fields["grid"].queryset.filter(pk=home.pk).exists():
                home = None
                self.add_error("membership", _("This resident lives in a grid you do not keep."))
            cleaned.update(name=line.name, grid=home, department=line.department, level=line.level)
        elif self.instance.pk is None or not self.instance.resident_id:
            self.add_error("membership", _("Choose the resident and their group."))
        else:
            cleaned["grid"] = cleaned.get("grid") or self.instance.grid
            cleaned["name"] = (cleaned.get("name") or "").strip() or self.instance.name
            cleaned["level"] = cleaned.get("level") or self.instance.level
        if cleaned.get("rule_is_custom"):
            if not cleaned.get("visits_required"):
                self.add_error("visits_required", _("Give the number of visits."))
            if not cleaned.get("period"):
                self.add_error("period", _("Choose per week or per month."))
        else:
            cleaned["visits_required"] = cleaned.get("visits_required") or 1
            cleaned["period"] = cleaned.get("period") or VisitPeriod.MONTH
        left_on = self.instance.left_on
        entered_on = cleaned.get("entered_on")
        if left_on and entered_on and entered_on > left_on:
            self.add_error("entered_on", _("A subject cannot enter the ledger after it left."))
        return cleaned

    def _post_clean(self) -> None:
        # The model's own checks (group matches kind) run on the values set in clean().
        for name in ("name", "grid", "department", "level"):
            if name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        super()._post_clean()


class EndSubjectForm(forms.Form):
    left_on = forms.DateField(
        label=_("Left the ledger on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("From this day on no visits are due and no reminders are sent."),
    )

    def __init__(self, *args: Any, subject: LedgerSubject, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"left_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.subject = subject

    def clean_left_on(self) -> datetime.date:
        left_on = self.cleaned_data["left_on"]
        if left_on < self.subject.entered_on:
            raise forms.ValidationError(_("A subject cannot leave the ledger before it entered."))
        return left_on


# --- The list's filters --------------------------------------------------------------------


# What the list page offers (LedgerSubjectQuerySet.in_status filters): empty is "in the ledger".
STATUS_CHOICES = [
    (status.value, status.label)
    for status in (LedgerStatus.IN_LEDGER, LedgerStatus.DUE, LedgerStatus.OVERDUE, LedgerStatus.LEFT)
]


class LedgerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Grid.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *SubjectKind.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Grid.objects.visible_to(user).order_by("community_id", "code")
        self.fields["grid"].empty_label = _("All my grids")
