"""Forms of the people registry. Every choice offered is bounded by the editor's scope: the
compounds of the grids they may change, the departments of their subdistrict, the group kinds
they may see for the resident."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.access import editable_grid_ids
from grids.models import (
    Compound,
    ExportStatus,
    GroupAccessRule,
    GroupKind,
    GroupMembership,
    Resident,
    SubjectKind,
    Tenancy,
)
from grids.models.groups import SCALE_OF_LEVEL, SCALES, scale_for
from grids.models.people import category_of, manageable_group_kinds
from shanglong.models import Department, User
from shanglong.roles import Role
from shanglong.validators import (
    normalise_identity_number,
    validate_identity_document,
    validate_optional_mobile,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ResidentSearchForm(forms.Form):
    """The resident list's search and filters. Group filters go through
    GroupMembership.visible_to, so a person cannot find who is in a group they may not see."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, address, last 4+ digits of the phone, or ID number")}
        ),
    )
    kind = forms.ChoiceField(label=_("Group"), required=False, choices=[("", _("Any group")), *GroupKind.choices])
    moved_out = forms.BooleanField(label=_("Include residents who moved out"), required=False)


class ResidentForm(forms.ModelForm):
    """A resident: who they are, their identity document, mobile and address (a standard address
    written as compound, building, unit and room; the dwelling is found or created)."""

    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=32,
        help_text=_("Checked against the document type, date of birth and gender. Stored encrypted."),
    )
    compound = forms.ModelChoiceField(queryset=Compound.objects.none(), label=_("Compound"))
    building = forms.CharField(label=_("Building"), max_length=50, help_text=_("For example 3号楼."))
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False, help_text=_("For example 2单元."))
    room = forms.CharField(label=_("Room"), max_length=20, help_text=_("For example 301."))

    # The number and the address are not model fields here: the number is set with its keyed
    # hash by grids.actions.save_resident, the address names a dwelling found or created.
    field_order = [
        "name",
        "gender",
        "birth_date",
        "id_type",
        "id_number",
        "mobile",
        "compound",
        "building",
        "unit",
        "room",
        "relation",
        "registration_status",
        "moved_in",
    ]

    class Meta:
        model = Resident
        fields = [
            "name",
            "gender",
            "birth_date",
            "id_type",
            "mobile",
            "relation",
            "registration_status",
            "moved_in",
        ]
        widgets = {
            "birth_date": DATE_WIDGET,
            "moved_in": DATE_WIDGET,
        }
        # A person's 姓名 (not a thing's 名称), and the same word as the resident's page (户籍状态).
        labels = {"name": _("Name"), "registration_status": _("Registration")}

    mobile = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=20,
        help_text=_("11 digits; spaces, dashes and +86 are taken out."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            building = instance.dwelling.building
            kwargs.setdefault("initial", {}).update(
                {
                    "compound": building.compound_id,
                    "building": building.name,
                    "unit": instance.dwelling.unit,
                    "room": instance.dwelling.room,
                    # The number is not shown again: left empty, it stays as it is.
                    "id_number": "",
                }
            )
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.fields["compound"].queryset = (
            Compound.objects.visible_to(editor)
            .filter(grid_id__in=editable_grid_ids(editor))
            .select_related("grid")
            .order_by("name")
        )
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        if self.instance.pk:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _(
                "Stored encrypted and shown masked: %(masked)s. Leave empty to keep it; type it again to change it."
            ) % {"masked": self.instance.masked_id_number}
        self.fields["relation"].help_text = _(
            "A householder starts a household at this address; a relative joins the household at this address."
        )

    def clean_mobile(self) -> str:
        return validate_optional_mobile(self.cleaned_data.get("mobile"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        number = normalise_identity_number(cleaned.get("id_number"))
        doc_type = cleaned.get("id_type")
        birth_date, gender = cleaned.get("birth_date"), cleaned.get("gender")
        if number and doc_type:
            try:
                number = validate_identity_document(doc_type, number, birth_date=birth_date, gender=gender)
            except forms.ValidationError as error:
                self.add_error("id_number", error)
            else:
                duplicates = Resident.objects.with_identity_number(number, doc_type).exclude(pk=self.instance.pk)
                if duplicates.exists():
                    self.add_error("id_number", _("A resident with this identity number is already in the registry."))
                cleaned["id_number"] = number
        elif self.instance.pk and doc_type and birth_date and gender:
            # The number is kept: the date of birth and gender must still agree with it.
            try:
                validate_identity_document(doc_type, self.instance.id_number, birth_date=birth_date, gender=gender)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned


def dwelling_for(form: ResidentForm) -> dict[str, Any]:
    """The address fields of a valid resident form, for grids.actions.find_or_create_dwelling."""
    data = form.cleaned_data
    return {
        "compound": data["compound"],
        "building": data["building"],
        "unit": data.get("unit") or "",
        "room": data["room"],
    }


class MoveOutForm(forms.Form):
    moved_out = forms.DateField(label=_("Moved out on"), widget=DATE_WIDGET, initial=timezone.localdate)


class LevelSelect(forms.Select):
    """The level select: every scale as an option group (grids.models.groups). Each option says
    its scale (data-scale) and the select names the fields that choose the group
    (data-level-of) with the scale of each group (data-scales), so that portal.js offers only
    the chosen group's scale; without JavaScript all are offered and the model refuses a level
    of another scale with a message."""

    def __init__(self, *, group_fields: str, attrs: dict[str, Any] | None = None) -> None:
        scales = {group: scale.code for scale in SCALES for group in scale.groups if group}
        scales[SubjectKind.KEY_ENTERPRISE] = scale_for("").code
        super().__init__(attrs={**(attrs or {}), "data-level-of": group_fields, "data-scales": json.dumps(scales)})

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        scale = SCALE_OF_LEVEL.get(str(value))
        if scale is not None:
            option["attrs"]["data-scale"] = scale.code
        return option


class GroupMembershipForm(forms.ModelForm):
    """Record a resident's membership of a special group or of the key persons: the level and
    the responsible department. No diagnosis, no offence: there is no field for them."""

    class Meta:
        model = GroupMembership
        fields = ["kind", "level", "disability_grade", "department", "since", "until", "note"]
        widgets = {"since": DATE_WIDGET, "until": DATE_WIDGET}

    def __init__(self, *args: Any, editor: Any, resident: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.resident = resident
        allowed = manageable_group_kinds(editor, resident)
        kinds = [(value, label) for value, label in GroupKind.choices if value in allowed]
        self.fields["kind"].choices = [("", "---------"), *kinds]
        self.fields["department"].queryset = Department.objects.visible_to(editor).order_by("level", "name")
        self.fields["level"].help_text = _(
            "On the group's own scale; it sets how often they are visited. Left empty, a special group takes"
            " general care and a released prisoner the aftercare period by the date of release."
        )
        self.fields["until"].help_text = _(
            "The last day; leave empty while it lasts (aftercare after prison: five years from release by default)."
        )
        self.fields["level"].widget = LevelSelect(group_fields="kind")
        self.fields["level"].widget.choices = self.fields["level"].choices


class EndMembershipForm(forms.Form):
    until = forms.DateField(label=_("Last day in the group"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, membership: GroupMembership, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"until": max(timezone.localdate(), membership.since)})
        super().__init__(*args, **kwargs)
        self.membership = membership

    def clean_until(self) -> datetime.date:
        until = self.cleaned_data["until"]
        if until < self.membership.since:
            raise forms.ValidationError(
                _("The last day cannot be before the start (%(since)s)."),
                code="before_since",
                params={"since": self.membership.since},
            )
        return until


class TenancyForm(forms.ModelForm):
    """A rented flat: the tenant is the resident whose page this is, the dwelling their address."""

    class Meta:
        model = Tenancy
        fields = ["owner_name", "since", "until"]
        widgets = {"since": DATE_WIDGET, "until": DATE_WIDGET}

    def __init__(self, *args: Any, tenant: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        self.instance.dwelling_id = tenant.dwelling_id
        self.fields["owner_name"].required = True


class GroupAccessRuleForm(forms.ModelForm):
    """One line of the community's group access table."""

    class Meta:
        model = GroupAccessRule
        fields = ["grid_workers", "grid_helpers", "department", "designated_officer"]

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["designated_officer"].queryset = (
            User.objects.visible_to(editor)
            .filter(community_id=self.instance.community_id, is_active=True)
            .filter(role__in=[Role.COMMUNITY_ADMIN, Role.STAFF, Role.GRID_WORKER, Role.DEPARTMENT])
            .order_by("full_name", "username")
        )
        self.fields["designated_officer"].label_from_instance = lambda user: f"{user.display_name} ({user.username})"
        self.fields["designated_officer"].required = False

    @property
    def category(self) -> Any:
        return category_of(self.instance.kind).label


class ExportRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the full numbers are needed"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the list of low-income households for the civil affairs office's annual review."),
    )


class ExportDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(ExportStatus.APPROVED, _("Approve")), (ExportStatus.REFUSED, _("Refuse"))],
        widget=forms.RadioSelect,
    )
    hours = forms.IntegerField(
        label=_("Valid for (hours)"), min_value=1, max_value=72, initial=24, help_text=_("For one export only.")
    )


class ResidentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Use the template. Every row must be valid, or nothing is imported."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
