"""The grids app's demo data: Shanglong's party organisations, 13 grids that tile the
community, 13 compounds, who is on duty; and a second, small community (文汇社区) beside it.

Called by `manage.py seed_demo` after shanglong.demo. Idempotent: natural keys throughout.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from grids.models import Compound, Duty, Grid, GridAssignment, OrganisationKind, PartyOrganisation
from shanglong.demo import DEMO_PASSWORD, rectangle
from shanglong.models import Community, Role, Subdistrict, User

ON_DUTY_SINCE = datetime.date(2025, 3, 1)

# Shanglong's 13 grids in four rows (north to south) of 4, 3, 3 and 3; each row is one branch.
ROWS = [4, 3, 3, 3]
BRANCHES = ["第一网格党支部", "第二网格党支部", "第三网格党支部", "第四网格党支部"]
UNIT_ORGANISATIONS = ["商业大厦联合党支部", "供销商场党支部", "乐活城联合党支部"]

# One compound per grid: (name, address, buildings).
COMPOUNDS = [
    ("鲁园小区", "商河路112号", 12),
    ("商河小区", "商河路86号", 9),
    ("西城花园", "西三路45号", 14),
    ("供销宿舍", "西二路30号", 6),
    ("胜利花园", "商河路150号", 18),
    ("富园小区", "西三路78号", 10),
    ("华苑小区", "西二路66号", 8),
    ("育英小区", "西三路102号", 11),
    ("丽景苑", "商河路201号", 7),
    ("金湖小区", "西二路120号", 13),
    ("银河小区", "西三路140号", 9),
    ("锦华园", "商河路240号", 6),
    ("泰和园", "西二路158号", 5),
]

HEAD_NAMES = [
    "王磊", "刘洋", "陈刚", "杨帆", "赵敏", "黄勇", "周丽", "吴军", "徐静", "孙涛", "马超", "朱红", "胡斌",
]  # fmt: skip
SECRETARY_NAMES = {"branch2": "高明", "branch3": "林霞", "branch4": "郑华"}

# 文汇社区: east of Shanglong, sharing its eastern edge.
WENHUI_WIDTH_DEG = 0.009
WENHUI_CODE = "370502-wenhui-wenhui"


def seed(context: dict[str, Any]) -> None:
    community: Community = context["community"]
    users: dict[str, User] = context["users"]
    organisations = _seed_organisations(community, users)
    grids = _seed_grids(community, organisations)
    compounds = _seed_compounds(grids)
    _seed_assignments(community, grids, users)
    second = _seed_second_community(context["subdistrict"], community)
    context.update(
        {
            "party_organisations": organisations,
            "grids": grids,
            "compounds": compounds,
            "second_community": second["community"],
            # (username, full name, role) of demo logins beyond the core's, for seed_demo to print.
            "extra_logins": [*context.get("extra_logins", []), ("staff2", second["staff"].full_name, Role.STAFF)],
        }
    )


def _demo_user(username: str, full_name: str, role: str, community: Community) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
        user.set_password(DEMO_PASSWORD)
    user.full_name = full_name
    user.role = role
    user.community = community
    user.subdistrict = community.subdistrict
    user.save()
    return user


def _organisation(community: Community, name: str, kind: str, parent: Any, secretary: Any) -> PartyOrganisation:
    organisation, _ = PartyOrganisation.objects.update_or_create(
        community=community, name=name, defaults={"kind": kind, "parent": parent, "secretary": secretary}
    )
    return organisation


def _seed_organisations(community: Community, users: dict[str, User]) -> dict[str, PartyOrganisation]:
    committee = _organisation(community, "商隆社区党委", OrganisationKind.COMMUNITY_COMMITTEE, None, users["admin"])
    joint = _organisation(
        community, "商河路商圈综合党委", OrganisationKind.DISTRICT_JOINT_COMMITTEE, committee, users["admin"]
    )
    result = {committee.name: committee, joint.name: joint}
    for name in UNIT_ORGANISATIONS:
        result[name] = _organisation(community, name, OrganisationKind.UNIT_ORGANISATION, joint, None)
    for number, name in enumerate(BRANCHES, start=1):
        if number == 1:
            secretary = users["staff"]
        else:
            username = f"branch{number}"
            secretary = _demo_user(username, SECRETARY_NAMES[username], Role.STAFF, community)
        result[name] = _organisation(community, name, OrganisationKind.GRID_BRANCH, committee, secretary)
    return result


def _bounds(boundary: dict[str, Any]) -> tuple[float, float, float, float]:
    ring = boundary["coordinates"][0]
    lons = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    return min(lons), min(lats), max(lons), max(lats)


def tiling(boundary: dict[str, Any], rows: list[int]) -> list[dict[str, Any]]:
    """Split a rectangular boundary into rows (north to south) of equal-width cells.

    Inner lines are rounded to six decimals once and shared by both neighbours, so the cells
    cover the rectangle exactly, without gaps or overlaps.
    """
    west, south, east, north = _bounds(boundary)
    row_lines = [north, *(round(north - (north - south) * i / len(rows), 6) for i in range(1, len(rows))), south]
    cells = []
    for row, columns in enumerate(rows):
        top, bottom = row_lines[row], row_lines[row + 1]
        column_lines = [west, *(round(west + (east - west) * j / columns, 6) for j in range(1, columns)), east]
        for column in range(columns):
            left, right = column_lines[column], column_lines[column + 1]
            ring = [[left, bottom], [right, bottom], [right, top], [left, top], [left, bottom]]
            cells.append({"type": "Polygon", "coordinates": [ring]})
    return cells


def _seed_grids(community: Community, organisations: dict[str, PartyOrganisation]) -> dict[str, Grid]:
    grids = {}
    cells = tiling(community.boundary, ROWS)
    number = 0
    for row, columns in enumerate(ROWS):
        branch = organisations[BRANCHES[row]]
        for _column in range(columns):
            boundary = cells[number]
            number += 1
            code = f"{number:02d}"
            grid, _ = Grid.objects.update_or_create(
                community=community,
                code=code,
                defaults={"name": f"网格{code}", "branch": branch, "boundary": boundary, "is_active": True},
            )
            grids[code] = grid
    return grids


def _inside_point(boundary: dict[str, Any], number: int) -> tuple[Decimal, Decimal]:
    """A point well inside a rectangular grid (not its exact centre, so the dots look placed)."""
    west, south, east, north = _bounds(boundary)
    x = 0.35 + 0.3 * ((number * 37) % 10) / 10
    y = 0.35 + 0.3 * ((number * 53) % 10) / 10
    longitude = Decimal(str(round(west + (east - west) * x, 6)))
    latitude = Decimal(str(round(south + (north - south) * y, 6)))
    return latitude, longitude


def _seed_compounds(grids: dict[str, Grid]) -> dict[str, Compound]:
    compounds = {}
    community_grids = list(grids.values())
    for number, (grid, (name, address, buildings)) in enumerate(zip(community_grids, COMPOUNDS, strict=True)):
        latitude, longitude = _inside_point(grid.boundary, number)
        compound = Compound.objects.filter(grid__community_id=grid.community_id, name=name).first()
        if compound is None:
            compound = Compound(name=name)
        compound.grid = grid
        compound.address = address
        compound.buildings = buildings
        compound.latitude = latitude
        compound.longitude = longitude
        compound.save()
        compounds[name] = compound
    return compounds


def _assign(user: User, grid: Grid, duty: str) -> GridAssignment:
    assignment, _ = GridAssignment.objects.update_or_create(
        user=user, grid=grid, duty=duty, defaults={"since": ON_DUTY_SINCE, "until": None}
    )
    return assignment


def _seed_assignments(community: Community, grids: dict[str, Grid], users: dict[str, User]) -> None:
    for number, (code, grid) in enumerate(grids.items()):
        head = _demo_user(f"grid{code}", HEAD_NAMES[number], Role.GRID_WORKER, community)
        _assign(head, grid, Duty.HEAD)
    _assign(users["grid"], grids["01"], Duty.FULL_TIME)


def _seed_second_community(subdistrict: Subdistrict, shanglong: Community) -> dict[str, Any]:
    west, south, east, north = _bounds(shanglong.boundary)
    center_lon = east + WENHUI_WIDTH_DEG / 2
    center_lat = (south + north) / 2
    boundary = rectangle(center_lon, center_lat, WENHUI_WIDTH_DEG, north - south)
    wenhui, _ = Community.objects.update_or_create(
        code=WENHUI_CODE,
        defaults={
            "subdistrict": subdistrict,
            "name": "文汇社区",
            "area_km2": Decimal("0.69"),
            "center_latitude": Decimal(str(round(center_lat, 6))),
            "center_longitude": Decimal(str(round(center_lon, 6))),
            "boundary": boundary,
        },
    )
    staff = _demo_user("staff2", "周敏", Role.STAFF, wenhui)
    committee = _organisation(wenhui, "文汇社区党委", OrganisationKind.COMMUNITY_COMMITTEE, None, staff)
    branch = _organisation(wenhui, "文汇社区网格党支部", OrganisationKind.GRID_BRANCH, committee, staff)
    for code, boundary_cell in zip(["01", "02"], tiling(boundary, [2]), strict=True):
        Grid.objects.update_or_create(
            community=wenhui,
            code=code,
            defaults={"name": f"文汇网格{code}", "branch": branch, "boundary": boundary_cell, "is_active": True},
        )
    return {"community": wenhui, "staff": staff}
