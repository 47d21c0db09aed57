"""Forms of the units' registration with the community (单位双报到): the registration with its
co-building agreement, a line of its three lists, and a step on a line. Every choice offered is
bounded by the editor's scope; the checks are the models' clean() and the actions'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import (
    ItemAction,
    ItemList,
    OrganisationKind,
    PartyOrganisation,
    UnitRegistration,
    UnitRegistrationItem,
)
from shanglong.forms import AttachmentField
from shanglong.models import Community
from shanglong.validators import validate_optional_mobile

DATE_INPUT = {"type": "date"}


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")


class UnitOrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PartyOrganisation) -> str:
        return obj.name


class UnitRegistrationForm(forms.ModelForm):
    """A resident unit's party organisation reporting to its community: who, since when, the
    contact, and the co-building agreement (its dates, what it says and, optionally, the signed
    file: a PDF or a photo, stored by grids.actions.attach_agreement). The unit is chosen among
    the unit organisations the editor sees in the communities they keep; a registration does
    not move to another unit or community."""

    unit_organisation = UnitOrganisationChoiceField(
        queryset=PartyOrganisation.objects.none(), label=_("Unit party organisation")
    )
    contact_phone = forms.CharField(label=_("Contact's mobile"), max_length=20, required=False)
    agreement_file = AttachmentField(
        label=_("Signed agreement (PDF or photo)"),
        required=False,
        help_text=_("Optional. A PDF, or a photo of the signed pages (JPEG, PNG, WebP)."),
    )

    class Meta:
        model = UnitRegistration
        fields = [
            "community",
            "unit_organisation",
            "registered_on",
            "ended_on",
            "contact_name",
            "contact_phone",
            "agreement_signed_on",
            "agreement_until",
            "agreement_summary",
        ]
        widgets = {
            "registered_on": _date_widget(),
            "ended_on": _date_widget(),
            "agreement_signed_on": _date_widget(),
            "agreement_until": _date_widget(),
            "agreement_summary": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = Community.objects.visible_to(editor).order_by("code")
        if not editor.is_superuser:
            communities = communities.filter(pk=editor.community_id)
        self.fields["community"].queryset = communities
        self.fields["community"].empty_label = None
        units = (
            PartyOrganisation.objects.visible_to(editor)
            .community_owned()
            .filter(kind=OrganisationKind.UNIT_ORGANISATION, community__in=communities)
            .order_by("community_id", "name")
        )
        self.fields["unit_organisation"].queryset = units
        if self.instance.pk is not None:
            self.fields["community"].disabled = True
            self.fields["unit_organisation"].disabled = True
        elif not editor.is_superuser:
            self.fields["community"].initial = editor.community_id
            self.fields["community"].disabled = True
        self.fields["contact_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean_contact_phone(self) -> str:
        return validate_optional_mobile(self.cleaned_data.get("contact_phone"))


class UnitRegistrationItemForm(forms.ModelForm):
    """A line of one of the registration's lists: a resource the unit offers, a need of the
    community, or a joint project. It starts open (waiting to be matched)."""

    class Meta:
        model = UnitRegistrationItem
        fields = ["item_list", "title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, registration: UnitRegistration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.registration = registration
        self.fields["item_list"].widget = forms.RadioSelect(choices=ItemList.choices)


class ItemStepForm(forms.Form):
    """A step on a list item (UNIT_ITEM_WORKFLOW), with the version the person saw: an item
    moved meanwhile is refused and nothing changes."""

    action = forms.ChoiceField(label=_("Step"), choices=ItemAction.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, item: UnitRegistrationItem, offered: list[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"version": item.version})
        kwargs.setdefault("prefix", f"item{item.pk}")
        super().__init__(*args, **kwargs)
        self.item = item
        if offered is not None:
            self.fields["action"].choices = [(value, label) for value, label in ItemAction.choices if value in offered]
