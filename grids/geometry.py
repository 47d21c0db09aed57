"""Boundaries and points: checking a grid's GeoJSON polygon and finding the grid of a point.

Polygons are GeoJSON in WGS84 ([longitude, latitude] pairs), stored in JSON columns; shapely
(whose wheel bundles GEOS) does the geometry in Python, so any database will do.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry import Point, Polygon, shape
from shapely.validation import explain_validity

if TYPE_CHECKING:
    from grids.models import Grid
    from shanglong.models import Community

# How far (in degrees, about a metre at Dongying's latitude) a grid may stick out of its
# community's boundary: boundaries drawn by hand or rounded to six decimals rarely match exactly.
BOUNDARY_TOLERANCE_DEG = 0.00001


def normalise_polygon(value: Any) -> dict[str, Any]:
    """Accept a GeoJSON Polygon, or a Feature that holds one; return the bare Polygon.

    Raises ValidationError (in the user's language) when the value is not a polygon we can use.
    """
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ValidationError(
            _('The boundary must be a GeoJSON polygon: {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}.'),
            code="not_polygon",
        )
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise ValidationError(_("The polygon has no coordinates."), code="no_coordinates")
    clean_rings: list[list[list[float]]] = []
    for ring_number, ring in enumerate(rings, start=1):
        clean_rings.append(_clean_ring(ring, ring_number))
    return {"type": "Polygon", "coordinates": clean_rings}


def _clean_ring(ring: Any, ring_number: int) -> list[list[float]]:
    if not isinstance(ring, list):
        raise ValidationError(
            _("Ring %(ring)d of the polygon is not a list of points.") % {"ring": ring_number}, code="bad_ring"
        )
    points: list[list[float]] = []
    for position in ring:
        if (
            not isinstance(position, list | tuple)
            or len(position) not in (2, 3)
            or not all(isinstance(number, int | float) and not isinstance(number, bool) for number in position)
            or not all(math.isfinite(number) for number in position)
        ):
            raise ValidationError(
                _("Every point must be a pair of numbers [longitude, latitude]; %(point)s is not.")
                % {"point": _short(position)},
                code="bad_position",
            )
        lon, lat = float(position[0]), float(position[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError(
                _(
                    "The point %(point)s is outside the WGS84 range: longitude goes from -180 to 180 and latitude "
                    "from -90 to 90, written [longitude, latitude]."
                )
                % {"point": _short(position)},
                code="out_of_range",
            )
        points.append([lon, lat])
    if len(points) < 4:
        raise ValidationError(
            _(
                "Ring %(ring)d has %(count)d points; a closed polygon needs at least 4 (three corners and the first "
                "point again at the end)."
            )
            % {"ring": ring_number, "count": len(points)},
            code="too_few_points",
        )
    if points[0] != points[-1]:
        raise ValidationError(
            _("Ring %(ring)d is not closed: its last point must repeat its first point %(point)s.")
            % {"ring": ring_number, "point": _short(points[0])},
            code="not_closed",
        )
    return points


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def to_shape(polygon: dict[str, Any]) -> Polygon:
    """A shapely polygon from a GeoJSON polygon already checked by normalise_polygon."""
    rings = polygon["coordinates"]
    return Polygon(rings[0], rings[1:])


def check_polygon(value: Any) -> tuple[dict[str, Any], Polygon]:
    """Check a GeoJSON polygon's form and its geometry (a simple shape with an area)."""
    polygon = normalise_polygon(value)
    geometry = to_shape(polygon)
    if not geometry.is_valid:
        raise ValidationError(
            _("The boundary is not a simple shape (for example it crosses itself): %(reason)s.")
            % {"reason": explain_validity(geometry)},
            code="invalid_geometry",
        )
    if geometry.area <= 0:
        raise ValidationError(_("The boundary encloses no area."), code="no_area")
    return polygon, geometry


def community_shape(community: Community) -> Any | None:
    """The community's boundary as a shapely geometry, or None when it has none (or a broken one)."""
    if not community.boundary:
        return None
    try:
        geometry = shape(community.boundary)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return geometry if geometry.is_valid and not geometry.is_empty else None


def validate_grid_boundary(value: Any, community: Community | None) -> dict[str, Any]:
    """Check a grid's boundary and return it as a bare GeoJSON polygon.

    It must be a valid, closed, simple polygon in WGS84 that lies inside the community's own
    boundary (within a metre or so). Raises ValidationError with a message for the person.
    """
    polygon, geometry = check_polygon(value)
    outline = community_shape(community) if community is not None else None
    if outline is not None and not outline.buffer(BOUNDARY_TOLERANCE_DEG).covers(geometry):
        outside = geometry.difference(outline).area / geometry.area * 100
        raise ValidationError(
            _(
                "The grid must lie inside the boundary of %(community)s; about %(percent)s%% of the drawn area "
                "is outside it."
            )
            % {"community": community, "percent": f"{max(outside, 0.1):.1f}"},
            code="outside_community",
        )
    return polygon


def polygon_covers(boundary: Any, latitude: Decimal | float, longitude: Decimal | float) -> bool:
    """Whether a GeoJSON polygon covers the point (its border included); False for a missing or
    unusable polygon. Grid.covers and GridQuerySet.containing (the point-to-grid rule) use it."""
    if not boundary:
        return False
    try:
        geometry = to_shape(normalise_polygon(boundary))
    except ValidationError:
        return False
    return bool(geometry.covers(Point(float(longitude), float(latitude))))


def place_compound(
    *,
    grid: Grid | None,
    latitude: Decimal | None,
    longitude: Decimal | None,
    candidates: Any,
    community: Community | None,
) -> Grid:
    """The grid a compound belongs in: the chosen one, or the one its position lies in.

    `candidates` are the grids the editor may choose (a queryset); `community` narrows the
    search when the editor works for one. Raises ValidationError keyed by field name.
    """
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise ValidationError({missing: _("Give both latitude and longitude, or neither.")})
    has_position = latitude is not None
    if grid is None:
        if not has_position:
            raise ValidationError({"grid": _("Choose the grid, or give the position so that the grid can be found.")})
        found = _locate_among(candidates, community, latitude, longitude)
        if found is None:
            raise ValidationError(
                {
                    "latitude": ValidationError(
                        _("This position is outside every grid of the community. Check the latitude and longitude."),
                        code="outside_grids",
                    )
                }
            )
        return found
    if has_position and not grid.covers(latitude, longitude):
        inside = _locate_among(candidates, community, latitude, longitude)
        message = (
            _("This position lies in %(other)s, not in the chosen grid %(grid)s.")
            if inside is not None
            else _("This position is outside the chosen grid %(grid)s.")
        )
        raise ValidationError(
            {"latitude": ValidationError(message, code="outside_grid", params={"grid": grid, "other": inside})}
        )
    return grid


def _locate_among(candidates: Any, community: Community | None, latitude: Any, longitude: Any) -> Grid | None:
    """The grid of the point: among the community's active grids when the editor works for one
    (Grid.objects.containing: a dedicated grid first, then the lowest code), else among the
    candidates; never one the editor could not have chosen."""
    from grids.models import Grid

    grids = Grid.objects.filter(community=community).active() if community is not None else candidates
    found = grids.containing(latitude, longitude).first()
    return found if found is not None and candidates.filter(pk=found.pk).exists() else None
