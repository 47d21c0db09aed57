"""Forms of the patrol work: checklist items, marking, findings and follow-ups.

Every choice offered is bounded: the views pass the grids from patrollable_grid_ids (and
visible_to) and the compounds of those grids in the viewer's scope. Photos and positions are never required (基层减负).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import MAX_FINDING_PHOTOS, ChecklistItem, Compound, Grid, Outcome, SiteType, checklist_templates
from shanglong.forms import PhotosField, PositionFields

# --- Checklists ----------------------------------------------------------------------------


class ChecklistItemForm(forms.ModelForm):
    """An item of a grid's checklist: what to check, how, for which kind of place and, for a
    seasonal item, in which months."""

    class Meta:
        model = ChecklistItem
        fields = ["text", "guidance", "site_type", "season_from", "season_until"]
        widgets = {"guidance": forms.Textarea(attrs={"rows": 3})}

    # A season's two months are checked by ChecklistItem.clean.

    def clean_text(self) -> str:
        return (self.cleaned_data.get("text") or "").strip()


class ApplyTemplateForm(forms.Form):
    site_type = forms.ChoiceField(label=_("Template"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = checklist_templates()
        self.fields["site_type"].choices = [(value, label) for value, label in SiteType.choices if value in templates]


class MoveItemForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


# --- Patrols -------------------------------------------------------------------------------


class MarkForm(forms.Form):
    """One tap on an item. A fail may carry the one line the page asked for (what is wrong):
    it becomes the finding's title. Never required: without it the details form asks again."""

    outcome = forms.ChoiceField(choices=Outcome.choices)
    description = forms.CharField(required=False, max_length=200)


class CompoundChoiceField(forms.TypedChoiceField):
    """A compound from a list computed once for the page (several forms share it, so the
    choices cost one query, not one per form)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, empty_value=None, required=False, **kwargs)
        self.compounds: dict[int, Compound] = {}

    def set_compounds(self, compounds: list[Compound], *, with_grid: bool) -> None:
        self.compounds = {compound.pk: compound for compound in compounds}
        self.choices = [("", _("Not in a compound"))] + [
            (compound.pk, f"{compound.name} · {compound.grid.name}" if with_grid else compound.name)
            for compound in compounds
        ]

    def clean(self, value: Any) -> Compound | None:
        pk = super().clean(value)
        return None if pk is None else self.compounds[pk]


class FindingDetailsForm(PositionFields):
    """What the worker adds to a failed item's finding: all optional. `compounds`: the
    compounds of the patrol's grid, in the viewer's scope."""

    description = forms.CharField(
        label=_("What is wrong"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    place = forms.CharField(label=_("Where"), required=False, max_length=200)
    compound = CompoundChoiceField(label=_("Compound"))
    merchant_name = forms.CharField(label=_("Merchant"), required=False, max_length=100)
    photos = PhotosField(label=_("Photos"), max_count=MAX_FINDING_PHOTOS)

    field_order = ["description", "place", "compound", "merchant_name", "photos", "latitude", "longitude"]

    def __init__(self, *args: Any, compounds: list[Compound], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["compound"].set_compounds(compounds, with_grid=False)
        self.fields["place"].widget.attrs["placeholder"] = _("Address or landmark")
        self.fields["merchant_name"].widget.attrs["placeholder"] = _("Shop name, if known")


class FindingForm(FindingDetailsForm):
    """A finding recorded without a patrol, in one of the person's grids. `grids`: the grids
    the person may patrol (patrollable_grid_ids, visible_to, active); `compounds`: theirs."""

    grid = forms.TypedChoiceField(label=_("Grid"), coerce=int)

    field_order = ["grid", *FindingDetailsForm.field_order]

    def __init__(self, *args: Any, grids: list[Grid], compounds: list[Compound], **kwargs: Any) -> None:
        super().__init__(*args, compounds=compounds, **kwargs)
        self.grids = {grid.pk: grid for grid in grids}
        self.fields["grid"].choices = [(grid.pk, grid.name) for grid in grids]
        self.fields["compound"].set_compounds(compounds, with_grid=len(grids) > 1)
        self.fields["description"].required = True

    def clean_grid(self) -> Grid:
        return self.grids[self.cleaned_data["grid"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        grid, compound = cleaned.get("grid"), cleaned.get("compound")
        if grid is not None and compound is not None and compound.grid_id != grid.pk:
            self.add_error("compound", _("This compound is not in the chosen grid."))
        return cleaned


class FollowUpForm(forms.Form):
    """A follow-up on a finding: a note, photos if the person wants (of the fixed problem, say),
    and whether it closes the finding."""

    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    photos = PhotosField(label=_("Photos"), max_count=MAX_FINDING_PHOTOS)
    close = forms.BooleanField(label=_("The problem is solved: close the finding"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_note(self) -> str:
        note = (self.cleaned_data.get("note") or "").strip()
        if not note:
            raise forms.ValidationError(_("Say what was done."), code="required")
        return note
