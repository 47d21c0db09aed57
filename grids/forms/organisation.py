"""Forms of the organisation registry. Every choice offered is bounded by the editor's scope."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import geometry
from grids.models import (
    COMMUNITY_WORK_ROLES,
    Compound,
    DedicatedSite,
    Grid,
    GridAssignment,
    GridKind,
    JointMeetingMember,
    PartyOrganisation,
)
from grids.models.cobuilding import SEAT_ORGANISATION_KINDS
from shanglong import roles
from shanglong.models import Community, Department, User


class BoundaryField(forms.JSONField):
    """A GeoJSON polygon typed or pasted into a text box, shown one point per line."""

    widget = forms.Textarea

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        if value is None or value == "":
            return ""  # an empty box for a new grid, not the text "null"
        if isinstance(value, dict) and value.get("type") == "Polygon":
            rings = [
                "[\n" + ",\n".join(f"    {json.dumps(point)}" for point in ring) + "\n  ]"
                for ring in value.get("coordinates") or []
            ]
            return '{"type": "Polygon", "coordinates": [\n  ' + ",\n  ".join(rings) + "\n]}"
        return super().prepare_value(value)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.username})"


class GridForm(forms.ModelForm):
    """A grid's code, name, branch and boundary. The geometry is checked by Grid.clean."""

    boundary = BoundaryField(
        label=_("Boundary (GeoJSON polygon, WGS84)"),
        help_text=_(
            "Paste a GeoJSON polygon with [longitude, latitude] points, for example from a map tool: "
            '{"type": "Polygon", "coordinates": [[[118.49, 37.46], [118.50, 37.46], [118.50, 37.47], '
            "[118.49, 37.46]]]}. The first point must be repeated at the end."
        ),
    )

    class Meta:
        model = Grid
        fields = ["community", "code", "name", "kind", "dedicated_site", "branch", "boundary", "is_active"]

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = Community.objects.visible_to(editor)
        if not editor.is_superuser:
            communities = communities.filter(pk=editor.community_id)
        self.fields["community"].queryset = communities
        self.fields["community"].empty_label = None
        if self.instance.pk is not None:
            self.fields["community"].disabled = True
        elif not editor.is_superuser:
            self.fields["community"].initial = editor.community_id
            self.fields["community"].disabled = True
        # Branches in the order of their first grid, as on the organisation page (by name 第三
        # would come before 第二); a branch without grids last.
        branches = (
            PartyOrganisation.objects.visible_to(editor)
            .branches()
            .annotate(first_grid=Min("grids__code"))
            .order_by("community_id", F("first_grid").asc(nulls_last=True), "name")
        )
        community_id = self.instance.community_id or (None if editor.is_superuser else editor.community_id)
        if community_id is not None:
            branches = branches.filter(community_id=community_id)
        self.fields["branch"].queryset = branches
        self.fields["boundary"].widget.attrs.update({"rows": 10, "spellcheck": "false", "class": "code"})
        self.fields["kind"].required = False

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip()

    def clean_kind(self) -> str:
        # A post without a kind (an older form, a script) keeps the grid's kind: ordinary for a new one.
        return self.cleaned_data.get("kind") or self.instance.kind or GridKind.ORDINARY

    # A code taken in the community is refused by the constraint (Grid.Meta), next to the code.


class GridFilterForm(forms.Form):
    """The grid list's filter: by kind (一般/专属网格) and a dedicated grid's site."""

    kind = forms.ChoiceField(label=_("Grid kind"), choices=[("", _("All kinds")), *GridKind.choices], required=False)
    dedicated_site = forms.ChoiceField(
        label=_("Site"), choices=[("", _("All sites")), *DedicatedSite.choices], required=False
    )

    def filter(self, grids: Any) -> Any:
        if not self.is_valid():
            return grids
        if self.cleaned_data["kind"]:
            grids = grids.filter(kind=self.cleaned_data["kind"])
        if self.cleaned_data["dedicated_site"]:
            grids = grids.filter(dedicated_site=self.cleaned_data["dedicated_site"])
        return grids


class AssignmentForm(forms.ModelForm):
    """Put a person on duty in a grid. Only people of the grid's community who work for it."""

    user = PersonChoiceField(queryset=User.objects.none(), label=_("Person"))

    class Meta:
        model = GridAssignment
        fields = ["grid", "user", "duty", "since"]
        widgets = {"since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Grid.objects.visible_to(editor).editable_by(editor).active()
        self.fields["user"].queryset = (
            User.objects.visible_to(editor)
            .filter(role__in=COMMUNITY_WORK_ROLES, is_active=True, community__isnull=False)
            .order_by("full_name", "username")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        grid, person, duty, since = (cleaned.get(name) for name in ("grid", "user", "duty", "since"))
        if grid is None or person is None:
            return cleaned
        if person.community_id != grid.community_id:
            self.add_error("user", _("This person does not work in the grid's community."))
        elif duty and since:
            overlapping = GridAssignment.objects.filter(grid=grid, user=person, duty=duty).exclude(until__lt=since)
            if overlapping.exists():
                self.add_error("user", _("This person already has this duty in this grid."))
        return cleaned


class EndAssignmentForm(forms.Form):
    """End a person's duty in a grid: the last day they are on duty."""

    until = forms.DateField(
        label=_("Last day on duty"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, assignment: GridAssignment, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"until": max(timezone.localdate(), assignment.since)})
        super().__init__(*args, **kwargs)
        self.assignment = assignment

    def clean_until(self) -> Any:
        until = self.cleaned_data["until"]
        if until < self.assignment.since:
            raise forms.ValidationError(
                _("The last day on duty cannot be before the first (%(since)s)."),
                code="before_since",
                params={"since": self.assignment.since},
            )
        return until


class CompoundForm(forms.ModelForm):
    """A residential compound. Leave the grid empty to have it found from the position."""

    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
        help_text=_("WGS84, for example 37.463000"),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
        help_text=_("WGS84, for example 118.495000"),
    )

    class Meta:
        model = Compound
        fields = ["name", "address", "latitude", "longitude", "grid", "buildings"]

    def __init__(self, *args: Any, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.grids = Grid.objects.visible_to(editor).editable_by(editor).active().order_by("community_id", "code")
        self.fields["grid"].queryset = self.grids
        self.fields["grid"].required = False
        self.fields["grid"].empty_label = _("Find it from the position")
        self.fields["grid"].help_text = _("Leave this to find the grid from the position.")

    def _community(self) -> Community | None:
        if self.instance.pk is not None:
            return self.instance.grid.community
        if roles.is_community_staff(self.editor) and self.editor.community_id:
            return self.editor.community
        return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if any(name in self.errors for name in ("latitude", "longitude", "grid")):
            return cleaned
        try:
            cleaned["grid"] = geometry.place_compound(
                grid=cleaned.get("grid"),
                latitude=cleaned.get("latitude"),
                longitude=cleaned.get("longitude"),
                candidates=self.grids,
                community=self._community(),
            )
        except forms.ValidationError as error:
            self.add_error(None, error)
        return cleaned


class SeatHolderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PartyOrganisation) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class JointMeetingMemberForm(forms.ModelForm):
    """A seat at a joint committee's joint meeting: what takes it (an organisation or a
    department, among those the editor sees), who represents it, from when to when. Whether
    the organisation fits the kind of seat, and whether it already has one, is
    JointMeetingMember.clean's."""

    organisation = SeatHolderChoiceField(
        queryset=PartyOrganisation.objects.none(), required=False, label=_("Party organisation")
    )
    department = forms.ModelChoiceField(queryset=Department.objects.none(), required=False, label=_("Department"))

    class Meta:
        model = JointMeetingMember
        fields = ["seat_kind", "organisation", "department", "representative", "position", "since", "until", "order"]
        widgets = {
            "since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, committee: PartyOrganisation, editor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.committee = committee
        self.fields["organisation"].queryset = (
            PartyOrganisation.objects.visible_to(editor)
            .filter(kind__in=list(SEAT_ORGANISATION_KINDS.values()))
            .exclude(pk=committee.pk)
            .order_by("kind", "name")
        )
        self.fields["department"].queryset = Department.objects.visible_to(editor).order_by("name")
        self.fields["organisation"].help_text = _("For every seat but a department's.")
        self.fields["department"].help_text = _("For a department's seat.")
