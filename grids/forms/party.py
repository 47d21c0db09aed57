"""Forms of the party-member registry. Every choice offered is bounded by the editor's scope:
organisations by `member_organisations_for`, residents and accounts by their own visible_to."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.forms.organisation import PersonChoiceField
from grids.models import (
    MEMBER_ORGANISATION_KINDS,
    ClaimedTask,
    InWorkRegistration,
    MemberStatus,
    MobileDirection,
    MobileMembership,
    OrganisationalLifeAttendance,
    OrganisationKind,
    PartyMember,
    PartyOrganisation,
    Resident,
    ServiceHours,
    TaskStatus,
    member_organisations_for,
)
from shanglong.models import User
from shanglong.validators import validate_optional_mobile


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ResidentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resident) -> str:
        return f"{obj.name} · {obj.dwelling.address}"


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PartyOrganisation) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class PartyMemberForm(forms.ModelForm):
    """A party member: the person (resident, portal account or both), where they are organised,
    their status and how to reach them. The name may be left empty to take the resident's or
    the account's."""

    organisation = OrganisationChoiceField(queryset=PartyOrganisation.objects.none(), label=_("Party organisation"))
    resident = ResidentChoiceField(queryset=Resident.objects.none(), required=False, label=_("Resident"))
    phone = forms.CharField(
        label=_("Mobile"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "off"}),
    )
    user = PersonChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Portal account"),
        help_text=_("Linking an account lets the member see their own record, tasks and hours."),
    )

    class Meta:
        model = PartyMember
        fields = [
            "name",
            "resident",
            "user",
            "organisation",
            "status",
            "joined_on",
            "phone",
            "shows_identity",
            "left_on",
            "note",
        ]
        widgets = {
            "joined_on": _date_widget(),
            "left_on": _date_widget(),
        }

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Leave empty to take the resident's or the account's name.")
        self.fields["organisation"].queryset = member_organisations_for(editor).order_by("community_id", "kind", "name")
        # The person already linked stays a valid choice for an editor who could not pick them
        # (a branch secretary keeps a member who lives outside the branch's grids).
        residents = Resident.objects.visible_to(editor).values("pk")
        accounts = User.objects.visible_to(editor).filter(is_active=True).values("pk")
        self.fields["resident"].queryset = (
            Resident.objects.filter(Q(pk__in=residents) | Q(pk=self.instance.resident_id or 0))
            .with_address()
            .order_by("name", "pk")
        )
        self.fields["user"].queryset = User.objects.filter(
            Q(pk__in=accounts) | Q(pk=self.instance.user_id or 0)
        ).order_by("full_name", "username")

    def clean_phone(self) -> str:
        return validate_optional_mobile(self.cleaned_data.get("phone"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not (cleaned.get("name") or "").strip():
            person = cleaned.get("resident") or cleaned.get("user")
            if person is not None:
                cleaned["name"] = getattr(person, "display_name", None) or str(person)
                self.instance.name = cleaned["name"]
        return cleaned


class MemberFilterForm(forms.Form):
    """The filters of the member list; the organisation choices are the viewer's own."""

    q = forms.CharField(label=_("Search"), required=False)
    organisation = OrganisationChoiceField(
        queryset=PartyOrganisation.objects.none(), required=False, label=_("Organisation"), empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *MemberStatus.choices])
    mobile = forms.ChoiceField(
        label=_("Mobile members"), required=False, choices=[("", _("All")), *MobileDirection.choices]
    )
    former = forms.BooleanField(label=_("Members who left"), required=False)

    def __init__(self, *args: Any, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            PartyOrganisation.objects.visible_to(viewer)
            .filter(kind__in=MEMBER_ORGANISATION_KINDS)
            .order_by("community_id", "kind", "name")
        )
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Name or last digits of the mobile")})


class MobileMembershipForm(forms.ModelForm):
    """A member's mobile record: outflow (where to, since when, how they keep in contact) or
    inflow (from where, where the membership is kept)."""

    class Meta:
        model = MobileMembership
        fields = [
            "direction",
            "place",
            "since",
            "until",
            "contact_method",
            "contact_detail",
            "membership_kept_at",
            "note",
        ]
        widgets = {"since": _date_widget(), "until": _date_widget()}

    def __init__(self, *args: Any, member: PartyMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.member = member


class OrganisationalLifeForm(forms.ModelForm):
    """One session of organisational life a mobile member attended."""

    class Meta:
        model = OrganisationalLifeAttendance
        fields = ["date", "kind", "way", "held_by", "note"]
        widgets = {"date": _date_widget()}

    def __init__(self, *args: Any, mobile_membership: MobileMembership, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"date": min(timezone.localdate(), mobile_membership.until or datetime.date.max)})
        super().__init__(*args, **kwargs)
        self.instance.mobile_membership = mobile_membership


class InWorkRegistrationForm(forms.ModelForm):
    """An in-work member's registration with the community (双报到)."""

    employer_organisation = OrganisationChoiceField(
        queryset=PartyOrganisation.objects.none(), required=False, label=_("Employer's party organisation")
    )

    class Meta:
        model = InWorkRegistration
        fields = ["employer_organisation", "employer_name", "registered_on", "ended_on", "note"]
        widgets = {"registered_on": _date_widget(), "ended_on": _date_widget()}

    def __init__(self, *args: Any, member: PartyMember, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.member = member
        self.fields["employer_organisation"].queryset = (
            PartyOrganisation.objects.visible_to(editor)
            .filter(kind=OrganisationKind.UNIT_ORGANISATION, community_id=member.organisation.community_id)
            .order_by("name")
        )


class ClaimedTaskForm(forms.ModelForm):
    """A community task an in-work member claims, and later completes or withdraws."""

    class Meta:
        model = ClaimedTask
        fields = ["title", "description", "claimed_on", "status", "completed_on"]
        widgets = {
            "claimed_on": _date_widget(),
            "completed_on": _date_widget(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, registration: InWorkRegistration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.registration = registration
        if self.instance.pk is None:
            # A task is claimed first; it is completed or withdrawn later, on its edit page.
            del self.fields["status"]
            del self.fields["completed_on"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        status = cleaned.get("status")
        if status == TaskStatus.COMPLETED and not cleaned.get("completed_on"):
            cleaned["completed_on"] = timezone.localdate()
            self.instance.completed_on = cleaned["completed_on"]
        return cleaned


class ServiceHoursForm(forms.ModelForm):
    """Hours served on a claimed task on one day."""

    class Meta:
        model = ServiceHours
        fields = ["served_on", "hours", "note"]
        widgets = {"served_on": _date_widget(), "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0.5"})}

    def __init__(self, *args: Any, task: ClaimedTask, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"served_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.instance.task = task


class MarkReportSentForm(forms.Form):
    """Mark a year's report as sent to the employer's party organisation."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("How it was sent, for example by post or handed over at the joint meeting."),
    )


__all__ = [
    "ClaimedTaskForm",
    "InWorkRegistrationForm",
    "MarkReportSentForm",
    "MemberFilterForm",
    "MobileMembershipForm",
    "OrganisationalLifeForm",
    "PartyMemberForm",
    "ServiceHoursForm",
]
