"""The grids app's demo data: Shanglong's party organisations, 13 grids that tile the
community, 13 compounds, who is on duty; and a second, small community (文汇社区) beside it.

Called by `manage.py seed_demo` after shanglong.demo. Idempotent: natural keys throughout.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from grids.models import (
    Compound,
    DedicatedSite,
    Duty,
    Grid,
    GridAssignment,
    GridKind,
    OrganisationKind,
    PartyOrganisation,
)
from shanglong.demo import demo_user, rectangle, upsert
from shanglong.models import Community, Subdistrict, User
from shanglong.roles import Role

ON_DUTY_SINCE = datetime.date(2025, 3, 1)

# Shanglong's 13 grids in four rows (north to south) of 4, 3, 3 and 3; each row is one branch.
ROWS = [4, 3, 3, 3]
BRANCHES = ["第一网格党支部", "第二网格党支部", "第三网格党支部", "第四网格党支部"]
UNIT_ORGANISATIONS = ["商业大厦联合党支部", "供销商场党支部", "乐活城联合党支部"]
# The subdistrict's own organisations (they belong to 文汇街道, not to a community).
WORKING_COMMITTEE = "文汇街道党工委"
JOINT_COMMITTEE = "商河路商圈综合党委"
# 党小组 under a grid branch: (branch, group), one per compound of the branch's first grids.
PARTY_GROUPS = [("第一网格党支部", "鲁园小区党小组"), ("第一网格党支部", "商河小区党小组")]

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

# 专属网格: the four commercial buildings, each a dedicated grid staffed by its own people, drawn
# round the building's footprint (the same footprints as the map's base layer) inside the
# ordinary grid it stands in. (code, name, site, [west, south, east, north])
DEDICATED_GRIDS = [
    ("ZS01", "商业大厦", DedicatedSite.OFFICE_TOWER, [118.4924, 37.4651, 118.4932, 37.4657]),
    ("ZS02", "供销商场", DedicatedSite.MALL, [118.4982, 37.4651, 118.4993, 37.4657]),
    ("ZS03", "乐活城", DedicatedSite.MALL, [118.4909, 37.4651, 118.4919, 37.4656]),
    ("ZS04", "韩国城", DedicatedSite.MARKET, [118.4920, 37.4640, 118.4931, 37.4645]),
]

HEAD_NAMES = [
    "王磊", "刘洋", "陈刚", "杨帆", "赵敏", "黄勇", "周丽", "吴军", "徐静", "孙涛", "马超", "朱红", "胡斌",
]  # fmt: skip
SECRETARY_NAMES = {"branch2": "高明", "branch3": "林霞", "branch4": "郑华"}

# 文汇社区: east of Shanglong, sharing its eastern edge.
WENHUI_WIDTH_DEG = 0.009
WENHUI_CODE = "370502-wenhui-wenhui"
WENHUI_COMMUNITY_AREA_CODE = "370502003012"


def seed(context: dict[str, Any]) -> None:
    community: Community = context["community"]
    users: dict[str, User] = context["users"]
    organisations = _seed_organisations(community, users)
    grids = _seed_grids(community, organisations)
    dedicated_grids = _seed_dedicated_grids(community)
    compounds = _seed_compounds(grids)
    _seed_assignments(community, grids, users)
    second = _seed_second_community(context["subdistrict"], community)
    context.update(
        {
            "party_organisations": organisations,
            "grids": grids,  # the 13 ordinary grids that tile the community
            "dedicated_grids": dedicated_grids,
            "compounds": compounds,
            "second_community": second["community"],
            # (username, full name, role) of demo logins beyond the core's, for seed_demo to print.
            "extra_logins": [*context.get("extra_logins", []), ("staff2", second["staff"].full_name, Role.STAFF)],
        }
    )
    seed_people(context)
    seed_party(context)
    seed_patrols(context)
    seed_ledger(context)


def _organisation(community: Community, name: str, kind: str, parent: Any, secretary: Any) -> PartyOrganisation:
    organisation, _ = upsert(
        PartyOrganisation,
        community=community,
        name=name,
        defaults={"kind": kind, "parent": parent, "secretary": secretary},
    )
    return organisation


def _subdistrict_organisation(
    subdistrict: Subdistrict, name: str, kind: str, parent: Any, secretary: Any
) -> PartyOrganisation:
    """One of the subdistrict's own organisations. One that a community owned before (the
    joint committee, in the demo data of earlier versions) moves to the subdistrict: found by
    its name among the subdistrict's communities' organisations, and changed in place."""
    organisation = (
        PartyOrganisation.objects.filter(subdistrict=subdistrict, name=name).first()
        or PartyOrganisation.objects.filter(community__subdistrict=subdistrict, name=name).first()
    )
    wanted = {"community": None, "subdistrict": subdistrict, "kind": kind, "parent": parent, "secretary": secretary}
    if organisation is None:
        return PartyOrganisation.objects.create(name=name, **wanted)
    changed = [field for field, value in wanted.items() if getattr(organisation, field) != value]
    for field in changed:
        setattr(organisation, field, wanted[field])
    if changed:
        organisation.save(update_fields=changed)
    return organisation


def _seed_organisations(community: Community, users: dict[str, User]) -> dict[str, PartyOrganisation]:
    committee = _organisation(community, "商隆社区党委", OrganisationKind.COMMUNITY_COMMITTEE, None, users["admin"])
    # The subdistrict's working committee leads the joint committee, which the subdistrict owns
    # because its work spans 商隆社区 and 文汇社区 (seed_party names the communities it spans).
    subdistrict = community.subdistrict
    working = _subdistrict_organisation(
        subdistrict, WORKING_COMMITTEE, OrganisationKind.SUBDISTRICT_COMMITTEE, None, None
    )
    joint = _subdistrict_organisation(
        subdistrict, JOINT_COMMITTEE, OrganisationKind.DISTRICT_JOINT_COMMITTEE, working, users["admin"]
    )
    result = {committee.name: committee, working.name: working, joint.name: joint}
    for name in UNIT_ORGANISATIONS:
        result[name] = _organisation(community, name, OrganisationKind.UNIT_ORGANISATION, joint, None)
    for number, name in enumerate(BRANCHES, start=1):
        if number == 1:
            secretary = users["staff"]
        else:
            username = f"branch{number}"
            secretary = demo_user(username, full_name=SECRETARY_NAMES[username], role=Role.STAFF, community=community)
        result[name] = _organisation(community, name, OrganisationKind.GRID_BRANCH, committee, secretary)
    for branch, name in PARTY_GROUPS:
        result[name] = _organisation(community, name, OrganisationKind.PARTY_GROUP, result[branch], None)
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
            grid, _ = upsert(
                Grid,
                community=community,
                code=code,
                defaults={"name": f"网格{code}", "branch": branch, "boundary": boundary, "is_active": True},
            )
            grids[code] = grid
    return grids


def _seed_dedicated_grids(community: Community) -> dict[str, Grid]:
    grids = {}
    for code, name, site, (west, south, east, north) in DEDICATED_GRIDS:
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        grid, _ = upsert(
            Grid,
            community=community,
            code=code,
            defaults={
                "name": name,
                "kind": GridKind.DEDICATED,
                "dedicated_site": site,
                # Led by the unit's own party organisation (see UNIT_ORGANISATIONS), not a grid branch.
                "branch": None,
                "boundary": {"type": "Polygon", "coordinates": [ring]},
                "is_active": True,
            },
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
        values = {
            "grid": grid,
            "address": address,
            "buildings": buildings,
            "latitude": latitude,
            "longitude": longitude,
        }
        # Found by name in the whole community, so a compound moved to another grid is not doubled.
        existing = Compound.objects.filter(grid__community_id=grid.community_id, name=name).first()
        if existing is None:
            compounds[name] = Compound.objects.create(name=name, **values)
        else:
            compounds[name], _ = upsert(Compound, pk=existing.pk, defaults=values)
    return compounds


def _assign(user: User, grid: Grid, duty: str) -> GridAssignment:
    assignment, _ = upsert(
        GridAssignment, user=user, grid=grid, duty=duty, defaults={"since": ON_DUTY_SINCE, "until": None}
    )
    return assignment


def _seed_assignments(community: Community, grids: dict[str, Grid], users: dict[str, User]) -> None:
    for number, (code, grid) in enumerate(grids.items()):
        head = demo_user(f"grid{code}", full_name=HEAD_NAMES[number], role=Role.GRID_WORKER, community=community)
        _assign(head, grid, Duty.HEAD)
    _assign(users["grid"], grids["01"], Duty.FULL_TIME)


def _seed_second_community(subdistrict: Subdistrict, shanglong: Community) -> dict[str, Any]:
    west, south, east, north = _bounds(shanglong.boundary)
    center_lon = east + WENHUI_WIDTH_DEG / 2
    center_lat = (south + north) / 2
    boundary = rectangle(center_lon, center_lat, WENHUI_WIDTH_DEG, north - south)
    wenhui, _ = upsert(
        Community,
        code=WENHUI_CODE,
        defaults={
            "subdistrict": subdistrict,
            "name": "文汇社区",
            "area_code": WENHUI_COMMUNITY_AREA_CODE,
            "area_km2": Decimal("0.69"),
            "center_latitude": Decimal(str(round(center_lat, 6))),
            "center_longitude": Decimal(str(round(center_lon, 6))),
            "boundary": boundary,
        },
    )
    staff = demo_user("staff2", full_name="周敏", role=Role.STAFF, community=wenhui)
    committee = _organisation(wenhui, "文汇社区党委", OrganisationKind.COMMUNITY_COMMITTEE, None, staff)
    branch = _organisation(wenhui, "文汇社区网格党支部", OrganisationKind.GRID_BRANCH, committee, staff)
    for code, boundary_cell in zip(["01", "02"], tiling(boundary, [2]), strict=True):
        upsert(
            Grid,
            community=wenhui,
            code=code,
            defaults={"name": f"文汇网格{code}", "branch": branch, "boundary": boundary_cell, "is_active": True},
        )
    return {"community": wenhui, "staff": staff}


# --- People (一标三实): addresses, residents, households, rented flats, groups ------------------
# Deterministic: the same residents with the same identity numbers on every run; rows that
# exist are left as they are (so a second run writes no new history either).

DEMO_AREA_CODE = "370502"  # 东营市东营区
# (compound, building, unit, room, [(name, gender, birth date, relation, registration, mobile)])
# fmt: off
DEMO_HOUSEHOLDS: list[tuple[str, str, str, str, list[tuple[str, str, str, str, str, str]]]] = [
    ("鲁园小区", "1号楼", "1单元", "101", [
        ("李春华", "male", "1948-03-12", "self", "household_registered", "13905461201"),
        ("王秀兰", "female", "1950-07-08", "spouse", "household_registered", ""),
    ]),
    ("鲁园小区", "1号楼", "2单元", "302", [
        ("刘桂英", "female", "1939-11-02", "self", "household_registered", "13805462302"),
    ]),
    ("鲁园小区", "2号楼", "1单元", "201", [
        ("孙建国", "male", "1975-05-20", "self", "household_registered", "13705462201"),
        ("赵丽娟", "female", "1978-09-14", "spouse", "household_registered", "13605462202"),
        ("孙浩然", "male", "2012-02-28", "child", "household_registered", ""),
    ]),
    ("鲁园小区", "3号楼", "1单元", "502", [
        ("周志强", "male", "1986-12-01", "self", "resident", "15005463502"),
    ]),
    ("鲁园小区", "3号楼", "2单元", "601", [
        ("钱永福", "male", "1944-04-18", "self", "household_registered", "13305463601"),
    ]),
    ("商河小区", "1号楼", "1单元", "102", [
        ("吴德明", "male", "1958-06-30", "self", "household_registered", "13905460102"),
        ("郑淑珍", "female", "1960-01-25", "spouse", "household_registered", "13905460103"),
        ("吴小雨", "female", "2015-08-09", "grandchild", "household_registered", ""),
    ]),
    ("商河小区", "2号楼", "1单元", "402", [
        ("冯立新", "male", "1969-10-10", "self", "household_registered", "18605460402"),
        ("陈美玲", "female", "1971-03-03", "spouse", "household_registered", "18605460403"),
    ]),
    ("商河小区", "3号楼", "1单元", "201", [
        ("褚红梅", "female", "1990-04-22", "self", "resident", "17705460201"),
        ("卫子轩", "male", "2014-06-17", "child", "resident", ""),
    ]),
    ("西城花园", "1号楼", "1单元", "301", [
        ("蒋国栋", "male", "1952-09-09", "self", "household_registered", "13505461301"),
        ("沈玉珍", "female", "1953-12-12", "spouse", "household_registered", ""),
    ]),
    ("西城花园", "2号楼", "2单元", "702", [
        ("韩志刚", "male", "1983-07-07", "self", "household_registered", "15805462702"),
        ("杨晓燕", "female", "1985-02-14", "spouse", "household_registered", "15805462703"),
        ("韩雨桐", "female", "2010-11-11", "child", "household_registered", ""),
        ("韩德胜", "male", "1955-05-05", "parent", "household_registered", ""),
    ]),
    ("西城花园", "4号楼", "1单元", "102", [
        ("朱秀云", "female", "1941-08-19", "self", "household_registered", "13405464102"),
    ]),
    ("供销宿舍", "1号楼", "", "201", [
        ("秦福来", "male", "1947-01-31", "self", "household_registered", "13205461201"),
        ("尤桂兰", "female", "1949-06-06", "spouse", "household_registered", ""),
    ]),
    ("供销宿舍", "2号楼", "", "303", [
        ("许文博", "male", "1995-09-23", "self", "resident", "18805462303"),
    ]),
    ("胜利花园", "5号楼", "1单元", "101", [
        ("何建军", "male", "1966-02-02", "self", "household_registered", "13905465101"),
        ("吕春燕", "female", "1968-08-08", "spouse", "household_registered", "13905465102"),
        ("何思远", "male", "2007-04-04", "child", "household_registered", ""),
    ]),
    ("胜利花园", "6号楼", "2单元", "402", [
        ("施振华", "male", "1979-03-15", "self", "household_registered", "15905466402"),
    ]),
    ("富园小区", "1号楼", "1单元", "202", [
        ("张玉梅", "female", "1962-10-01", "self", "household_registered", "13605461202"),
        ("孔令军", "male", "1988-05-18", "child", "household_registered", "13605461203"),
    ]),
    ("华苑小区", "1号楼", "1单元", "101", [
        ("曹德海", "male", "1957-02-17", "self", "household_registered", "13805461101"),
        ("邹玉芬", "female", "1959-09-27", "spouse", "household_registered", ""),
    ]),
    ("育英小区", "2号楼", "2单元", "301", [
        ("魏东升", "male", "1981-11-30", "self", "resident", "15605462301"),
        ("陶静怡", "female", "1984-04-09", "spouse", "resident", "15605462302"),
        ("魏一鸣", "male", "2016-10-16", "child", "resident", ""),
    ]),
    ("丽景苑", "1号楼", "1单元", "202", [
        ("姜凤英", "female", "1945-12-05", "self", "household_registered", "13205461202"),
    ]),
]
# Rented flats: (compound, building, unit, room, owner, [(tenant...)]); tenants are floating population.
DEMO_RENTED = [
    ("鲁园小区", "2号楼", "2单元", "401", "李国庆", [
        ("曹明亮", "male", "1992-03-08", "self", "floating", "17605462401"),
        ("严小芳", "female", "1994-07-21", "spouse", "floating", "17605462402"),
    ]),
    ("商河小区", "1号楼", "2单元", "501", "华建设", [
        ("金志远", "male", "1998-12-24", "none", "floating", "19905461501"),
    ]),
]
# (resident name, kind, level on the kind's own scale (grids.models.groups), disability grade,
# department, since, until, note)
DEMO_GROUPS = [
    ("李春华", "elderly_empty_nest", "general_care", None, "民政办", "2023-01-01", None, ""),
    ("王秀兰", "elderly_empty_nest", "general_care", None, "民政办", "2023-01-01", None, ""),
    ("刘桂英", "elderly_alone", "key_care", None, "民政办", "2022-06-01", None, "女儿在济南工作，走访前先电话联系。"),
    ("朱秀云", "elderly_alone", "general_care", None, "民政办", "2024-03-01", None, ""),
    ("钱永福", "disability", "general_care", 2, "民政办", "2021-09-01", None, ""),
    ("秦福来", "low_income", "general_care", None, "民政办", "2024-01-01", None, ""),
    ("卫子轩", "child_in_difficulty", "key_care", None, "民政办", "2024-09-01", None, ""),
    ("周志强", "community_correction", "strict", None, "司法所", "2025-02-01", None, ""),
    ("许文博", "released_prisoner", "aftercare", None, "司法所", "2023-05-10", None, ""),
    ("施振华", "severe_mental_disorder", "risk_1", None, "社区卫生服务站", "2022-11-01", None, ""),
    ("金志远", "drug_user", "dept_high", None, "派出所", "2024-07-01", None, ""),
    ("何思远", "key_youth", "dept_low", None, "综治中心", "2024-02-01", "2025-02-01", ""),
]
# fmt: on
DEMO_MOVED_OUT = {"孔令军": "2025-06-30"}
# The designated officers of Shanglong's group access table (community staff; one per rule):
# (username, full name, post, the kinds they are designated for).
DESIGNATED_OFFICERS = [
    ("officer_child", "孟晓雯", "儿童主任", ["child_in_difficulty"]),
    ("officer_disability", "葛振东", "残疾人专职委员", ["disability"]),
    ("officer_civil", "田淑芬", "民政专干", ["low_income", "elderly_alone", "elderly_empty_nest"]),
    ("officer_mental", "邵文杰", "精防医生", ["severe_mental_disorder"]),
    ("officer_drug", "彭卫国", "禁毒社工", ["drug_user"]),
]


def demo_resident_id(birth_date: datetime.date, sequence: int, gender: str) -> str:
    """A valid resident identity number of the Dongying district area code (370502): the
    sequence digit's parity says the gender, the last character is the computed check."""
    from shanglong.validators import identity_check_character

    order = sequence * 2 + (1 if gender == "male" else 0)
    body = f"{DEMO_AREA_CODE}{birth_date:%Y%m%d}{order % 1000:03d}"
    return body + identity_check_character(body)


def seed_people(context: dict[str, Any]) -> None:
    from grids.models import (
        Dwelling,
        GroupAccessRule,
        GroupMembership,
        Household,
        Resident,
        ResidentialBuilding,
        Tenancy,
    )
    from shanglong.models import Department

    community: Community = context["community"]
    compounds: dict[str, Compound] = context["compounds"]
    admin = context["users"]["admin"]
    GroupAccessRule.objects.ensure_for(community)
    buildings: dict[tuple[str, str], ResidentialBuilding] = {}
    for name, compound in compounds.items():
        for number in range(1, compound.buildings + 1):
            building, _ = ResidentialBuilding.objects.get_or_create(compound=compound, name=f"{number}号楼")
            buildings[(name, building.name)] = building

    residents: dict[str, Resident] = {}
    sequence = 0

    def settle(compound: str, building: str, unit: str, room: str, people: list[tuple[str, ...]]) -> Dwelling:
        nonlocal sequence
        dwelling, _ = Dwelling.objects.get_or_create(building=buildings[(compound, building)], unit=unit, room=room)
        household = None
        for name, gender, birth, relation, registration, mobile in people:
            sequence += 1
            birth_date = datetime.date.fromisoformat(birth)
            number = demo_resident_id(birth_date, sequence, gender)
            resident = Resident.objects.with_identity_number(number).first()
            if resident is None:
                resident = Resident(
                    name=name,
                    gender=gender,
                    birth_date=birth_date,
                    mobile=mobile,
                    dwelling=dwelling,
                    relation=relation,
                    registration_status=registration,
                    moved_in=max(birth_date, datetime.date(2005, 1, 1)),
                    household=household if relation not in ("self", "none", "") else None,
                )
                resident.set_identity_number(number)
                resident._history_user = admin
                resident.save()
            if relation == "self":
                household = Household.objects.filter(dwelling=dwelling, householder=resident).first()
                if household is None:
                    household = Household.objects.create(dwelling=dwelling, householder=resident)
            if relation not in ("none", "") and household is not None and resident.household_id != household.pk:
                resident.household = household
                resident._history_user = admin
                resident.save(update_fields=["household"])
            residents[name] = resident
        return dwelling

    for compound, building, unit, room, people in DEMO_HOUSEHOLDS:
        settle(compound, building, unit, room, people)
    for compound, building, unit, room, owner, people in DEMO_RENTED:
        dwelling = settle(compound, building, unit, room, people)
        for person in people:
            tenant = residents[person[0]]
            Tenancy.objects.get_or_create(
                dwelling=dwelling,
                tenant=tenant,
                since=datetime.date(2024, 3, 1),
                defaults={"owner_name": owner},
            )

    departments = {department.name: department for department in Department.objects.all()}
    for name, kind, level, grade, department, since, until, note in DEMO_GROUPS:
        GroupMembership.objects.get_or_create(
            resident=residents[name],
            kind=kind,
            since=datetime.date.fromisoformat(since),
            defaults={
                "level": level,
                "disability_grade": grade,
                "department": departments[department],
                "until": datetime.date.fromisoformat(until) if until else None,
                "note": note,
            },
        )
    for name, moved_out in DEMO_MOVED_OUT.items():
        resident = residents[name]
        if resident.moved_out is None:
            resident.moved_out = datetime.date.fromisoformat(moved_out)
            resident._history_user = admin
            resident.save(update_fields=["moved_out"])
    context["residents"] = residents
    _seed_designated_officers(context)


def _seed_designated_officers(context: dict[str, Any]) -> None:
    """The officers who see their group by designation, set on Shanglong's access table by the
    admin (a history row only when a rule changes, so seeding twice changes nothing)."""
    from grids.models import GroupAccessRule

    community: Community = context["community"]
    admin = context["users"]["admin"]
    rules = {rule.kind: rule for rule in GroupAccessRule.objects.filter(community=community)}
    logins = []
    for username, full_name, post, kinds in DESIGNATED_OFFICERS:
        officer = demo_user(username, full_name=full_name, role=Role.STAFF, community=community)
        logins.append((username, f"{full_name}（{post}）", Role.STAFF))
        for kind in kinds:
            rule = rules[kind]
            if rule.designated_officer_id != officer.pk:
                rule.designated_officer = officer
                rule._history_user = admin
                rule.save(update_fields=["designated_officer"])
    context["extra_logins"] = [*context.get("extra_logins", []), *logins]


# --- Party members ---------------------------------------------------------------------------

# (name used when no registry resident is available, organisation, status, joined, mobile).
# Branch members live in their branch's grids; unit organisations' members anywhere.
PARTY_MEMBERS = [
    ("王志刚", "第一网格党支部", "full", "1998-07-01", "13805461101"),
    ("李秀英", "第一网格党支部", "full", "1985-06-20", "13805461102"),
    ("孙建国", "第一网格党支部", "full", "2006-11-15", "13805461103"),
    ("周婷", "第一网格党支部", "probationary", "2026-06-30", "13805461104"),
    ("吴海燕", "第二网格党支部", "full", "2001-07-01", "13805461105"),
    ("郑学军", "第二网格党支部", "full", "1992-05-04", "13805461106"),
    ("冯晓东", "第二网格党支部", "full", "2012-10-01", "13805461107"),
    ("陈玉兰", "第二网格党支部", "full", "1979-03-08", "13805461108"),
    ("褚卫东", "第三网格党支部", "full", "2003-12-26", "13805461109"),
    ("卫红梅", "第三网格党支部", "full", "1996-07-01", "13805461110"),
    ("蒋立新", "第三网格党支部", "full", "2015-05-20", "13805461111"),
    ("沈佳慧", "第四网格党支部", "probationary", "2026-01-12", "13805461112"),
    ("韩志强", "第四网格党支部", "full", "2008-08-08", "13805461113"),
    ("杨振华", "第四网格党支部", "full", "1988-09-09", "13805461114"),
    ("朱丽娟", "商业大厦联合党支部", "full", "2010-07-01", "13805461115"),
    ("秦海涛", "商业大厦联合党支部", "full", "2017-04-18", "13805461116"),
    ("许国庆", "供销商场党支部", "full", "1999-10-01", "13805461117"),
    ("何春燕", "供销商场党支部", "full", "2005-03-15", "13805461118"),
    ("吕俊杰", "乐活城联合党支部", "full", "2019-07-01", "13805461119"),
    ("施雅琴", "乐活城联合党支部", "probationary", "2025-12-20", "13805461120"),
]
# Demo logins who are party members themselves: they see their own record, tasks and hours.
PARTY_MEMBER_LOGINS = [
    # (username, organisation, status, joined, shows identity)
    ("grid", "第一网格党支部", "full", "2011-07-01", False),
    ("merchant", "商业大厦联合党支部", "full", "2009-05-04", True),
    ("volunteer", "第二网格党支部", "full", "2014-07-01", False),
]
# Mobile members: (member index, direction, place, since, contact, detail, membership kept at).
MOBILE_MEMBERS = [
    (1, "outflow", "青岛市黄岛区", "2024-03-01", "wechat", "商隆社区流动党员微信群", ""),
    (6, "outflow", "北京市朝阳区", "2023-09-01", "online_platform", "灯塔-党建在线", ""),
    (10, "outflow", "深圳市南山区", "2025-02-15", "phone", "每月电话联系支部书记", ""),
    (5, "inflow", "滨州市博兴县", "2022-05-01", "in_person", "", "博兴县城东街道花园社区党支部"),
    (12, "inflow", "淄博市张店区", "2024-08-01", "wechat", "第四网格党支部微信群", "张店区科苑街道党工委"),
]
# Organisational life attended: (mobile index, month offset in the previous year, kind, way).
LIFE_SESSIONS = [
    (0, 3, "theme_day", "online"),
    (0, 6, "party_lesson", "online"),
    (1, 4, "branch_meeting", "online"),
    (1, 9, "life_meeting", "online"),
    (2, 7, "party_lesson", "online"),
    (3, 5, "theme_day", "in_person"),
    (3, 10, "group_meeting", "in_person"),
    (4, 11, "party_lesson", "in_person"),
]
# In-work registrations: (member: index or login, employer organisation name or free text, registered).
IN_WORK = [
    ("volunteer", None, "东营区人社局机关党支部", "2024-03-05"),
    (8, "供销商场党支部", "", "2024-04-01"),
    (2, None, "胜利油田东辛采油厂机关党委", "2025-03-01"),
]
# Claimed tasks: (registration index, title, claimed, days served each month, hours a day).
CLAIMED_TASKS = [
    (0, "萤火虫课堂周末作业辅导", "2024-03-10", (6, 20), "2.0"),
    (0, "岗亭反电信诈骗宣传", "2025-05-01", (12,), "1.5"),
    (1, "走百家 暖商隆 入户探访", "2024-04-10", (8,), "2.0"),
    (2, "商河路文明劝导", "2025-03-15", (15,), "3.0"),
]


# 党建共建: the joint meeting's roster of the business-district joint committee and the resident
# units' registrations with the community (单位双报到).
# A resident unit that reports to 商隆社区 directly (it is not in the joint committee).
BANK_ORGANISATION = "东营银行商河路支行党支部"
ROSTER_SINCE = datetime.date(2025, 1, 1)
# (seat kind, organisation or department name, representative, position); the order is the list's.
JOINT_MEETING_SEATS = [
    ("subdistrict_committee", WORKING_COMMITTEE, "张建国", "街道党工委书记"),
    ("community_committee", "商隆社区党委", None, "社区党委书记"),  # None: the community admin
    ("community_committee", "文汇社区党委", "周敏", "社区党委书记"),
    ("unit_organisation", BANK_ORGANISATION, "刘志远", "支部书记、行长"),
    ("unit_organisation", "供销商场党支部", "许国庆", "支部书记"),
    ("department", "派出所", "赵鹏", "副所长、社区民警"),
    ("department", "市场监管所", "孙立平", "所长"),
]
# (unit organisation, registered, contact, mobile, agreement signed, until, summary,
#  [(list, title, description, status)]).
UNIT_REGISTRATIONS = [
    (
        BANK_ORGANISATION,
        "2025-03-01",
        "刘志远",
        "13805467001",
        "2025-03-01",
        "2027-02-28",
        "支行向社区开放会议室并组织党员志愿服务；社区为支行开展金融知识宣传提供场地和居民组织。",
        [
            ("resource", "会议室（可容纳40人）", "每周二、周四下午免费供社区活动使用。", "matched"),
            ("resource", "党员志愿者金融知识宣讲", "每季度一次，防范电信诈骗和非法集资。", "in_progress"),
            ("need", "老年人助餐", "鲁园小区独居老人午餐配送，需要志愿者和经费支持。", "open"),
            ("project", "共建志愿服务站", "在商河路岗亭旁共建志愿服务站，双方党员轮流值守。", "done"),
        ],
    ),
    (
        "供销商场党支部",
        "2025-05-10",
        "何春燕",
        "13805461118",
        "2025-05-10",
        None,
        "商场提供中庭场地用于社区宣传；社区协助商场做好门前三包和消防安全宣传。",
        [
            ("resource", "商场中庭场地", "节假日以外可用于社区宣传活动。", "done"),
            ("need", "青少年暑期托管", "暑期双职工家庭子女托管，需要场地和志愿者。", "dropped"),
            ("project", "商河路夜间照明", "商场外立面灯光与路灯错时开启，改善夜间出行。", "in_progress"),
        ],
    ),
]
# The steps that lead an open item to each status (UNIT_ITEM_WORKFLOW).
STEPS_TO = {
    "open": [],
    "matched": ["match"],
    "in_progress": ["match", "start"],
    "done": ["match", "start", "complete"],
    "dropped": ["drop"],
}


def _seed_cobuilding(context: dict[str, Any]) -> None:
    """The joint committee spans 商隆社区 and 文汇社区; its joint meeting has seven seats; two
    resident units report to 商隆社区 with their agreement and lists, the items at different
    stages (each stage a step on the item's timeline, taken only when the item is new)."""
    from grids.models import UNIT_ITEM_WORKFLOW, JointMeetingMember, SeatKind, UnitRegistration, UnitRegistrationItem

    community: Community = context["community"]
    users: dict[str, User] = context["users"]
    organisations: dict[str, PartyOrganisation] = context["party_organisations"]
    wenhui: Community = context["second_community"]
    joint = organisations[JOINT_COMMITTEE]
    joint.communities.add(community, wenhui)
    bank = _organisation(
        community, BANK_ORGANISATION, OrganisationKind.UNIT_ORGANISATION, organisations["商隆社区党委"], None
    )
    holders = {
        **organisations,
        BANK_ORGANISATION: bank,
        "文汇社区党委": PartyOrganisation.objects.get(community=wenhui, name="文汇社区党委"),
    }
    departments = context["departments"]
    for order, (seat_kind, holder, representative, position) in enumerate(JOINT_MEETING_SEATS, start=1):
        lookup: dict[str, Any] = (
            {"department": departments[holder]}
            if seat_kind == SeatKind.DEPARTMENT
            else {"organisation": holders[holder]}
        )
        upsert(
            JointMeetingMember,
            committee=joint,
            since=ROSTER_SINCE,
            **lookup,
            defaults={
                "seat_kind": seat_kind,
                "representative": representative or users["admin"].display_name,
                "position": position,
                "order": order,
            },
        )
    for unit, registered, contact, mobile, signed, until, summary, items in UNIT_REGISTRATIONS:
        registration, _ = upsert(
            UnitRegistration,
            unit_organisation=holders[unit],
            community=community,
            defaults={
                "registered_on": datetime.date.fromisoformat(registered),
                "contact_name": contact,
                "contact_phone": mobile,
                "agreement_signed_on": datetime.date.fromisoformat(signed),
                "agreement_until": datetime.date.fromisoformat(until) if until else None,
                "agreement_summary": summary,
            },
        )
        for item_list, title, description, status in items:
            item, created = upsert(
                UnitRegistrationItem,
                registration=registration,
                title=title,
                defaults={"item_list": item_list, "description": description},
            )
            if created:
                for action in STEPS_TO[status]:
                    UNIT_ITEM_WORKFLOW.transition(item, action=action, by=users["staff"])


def seed_party(context: dict[str, Any]) -> None:
    """~20 party members over the four grid branches and the joint committee's unit
    organisations, three demo logins among them, 3 outflow and 2 inflow mobile members with
    organisational life, 3 in-work registrations with tasks and hours. Idempotent: members are
    found by their resident or account, the rest by natural keys."""
    from django.utils import timezone

    from grids.models import (
        ClaimedTask,
        InWorkRegistration,
        InWorkReport,
        MobileMembership,
        OrganisationalLifeAttendance,
        PartyMember,
        ServiceHours,
    )
    from shanglong.demo import upsert

    community: Community = context["community"]
    users: dict[str, User] = context["users"]
    organisations: dict[str, PartyOrganisation] = context["party_organisations"]
    residents = _party_residents(community, organisations)
    members: list[PartyMember] = []
    for (_name, organisation, status, joined, phone), resident in zip(PARTY_MEMBERS, residents, strict=True):
        defaults = {
            "name": resident.name,
            "organisation": organisations[organisation],
            "status": status,
            "joined_on": datetime.date.fromisoformat(joined),
            "phone": phone,
        }
        member, _ = upsert(PartyMember, resident=resident, defaults=defaults)
        members.append(member)
    logins: dict[str, PartyMember] = {}
    for username, organisation, status, joined, shows_identity in PARTY_MEMBER_LOGINS:
        user = users[username]
        defaults = {
            "name": user.display_name,
            "organisation": organisations[organisation],
            "status": status,
            "joined_on": datetime.date.fromisoformat(joined),
            "shows_identity": shows_identity,
            "phone": user.mobile if user.mobile else "",
        }
        logins[username], _ = upsert(PartyMember, user=user, defaults=defaults)

    last_year = timezone.localdate().year - 1
    records = []
    for index, direction, place, since, contact, detail, kept_at in MOBILE_MEMBERS:
        record, _ = upsert(
            MobileMembership,
            member=members[index],
            since=datetime.date.fromisoformat(since),
            defaults={
                "direction": direction,
                "place": place,
                "contact_method": contact,
                "contact_detail": detail,
                "membership_kept_at": kept_at,
            },
        )
        records.append(record)
    for index, month, kind, way in LIFE_SESSIONS:
        OrganisationalLifeAttendance.objects.get_or_create(
            mobile_membership=records[index],
            date=datetime.date(last_year, month, 1 + 3 * index),
            kind=kind,
            defaults={"way": way, "recorded_by": users["staff"]},
        )

    registrations = []
    for who, organisation, employer_name, registered in IN_WORK:
        member = logins[who] if isinstance(who, str) else members[who]
        registration, _ = upsert(
            InWorkRegistration,
            member=member,
            registered_on=datetime.date.fromisoformat(registered),
            defaults={
                "employer_organisation": organisations[organisation] if organisation else None,
                "employer_name": employer_name,
            },
        )
        registrations.append(registration)
    today = timezone.localdate()
    for index, title, claimed, days, hours in CLAIMED_TASKS:
        claimed_on = datetime.date.fromisoformat(claimed)
        task, _ = upsert(
            ClaimedTask, registration=registrations[index], title=title, defaults={"claimed_on": claimed_on}
        )
        # Hours in every month from the claim to last month (a fixed set for a given month).
        month = datetime.date(claimed_on.year, claimed_on.month, 1)
        while (month.year, month.month) < (today.year, today.month):
            for day in days:
                served_on = month.replace(day=day)
                if served_on >= claimed_on:
                    ServiceHours.objects.get_or_create(
                        task=task,
                        served_on=served_on,
                        defaults={"hours": Decimal(hours), "recorded_by": users["staff"]},
                    )
            month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    first = registrations[0]
    if not InWorkReport.objects.filter(registration=first, year=last_year).exists():
        hours = ServiceHours.objects.filter(task__registration=first).in_year(last_year).total()
        InWorkReport.objects.create(
            registration=first,
            year=last_year,
            sent_by=users["staff"],
            sent_at=datetime.datetime(last_year + 1, 1, 8, 10, 0, tzinfo=timezone.get_current_timezone()),
            hours_reported=hours,
            note="年初党建联席会议上当面送达",
        )
    context["party_members"] = members + list(logins.values())
    _seed_cobuilding(context)


def _party_residents(community: Community, organisations: dict[str, PartyOrganisation]) -> list[Any]:
    """One adult resident per entry of PARTY_MEMBERS: branch members from the residents of the
    branch's grids, the others from anywhere in the community (the registry's demo residents,
    in a fixed order). Where the registry has too few, a minimal resident is made for the name."""
    from django.utils import timezone

    from grids.models import Dwelling, Resident, ResidentialBuilding
    from shanglong.validators import Gender, identity_check_character

    today = timezone.localdate()
    adult = datetime.date(today.year - 18, today.month, min(today.day, 28))
    available = list(
        Resident.objects.in_community(community)
        .living_here()
        .filter(birth_date__lte=adult)
        .select_related("dwelling__building__compound__grid")
        .order_by("pk")
    )
    taken: set[int] = set()
    chosen: list[Any] = []
    for number, (name, organisation, _status, _joined, _phone) in enumerate(PARTY_MEMBERS, start=1):
        is_branch = organisations[organisation].kind == OrganisationKind.GRID_BRANCH
        branch_id = organisations[organisation].pk if is_branch else None
        resident = next(
            (
                candidate
                for candidate in available
                if candidate.pk not in taken
                and (branch_id is None or candidate.dwelling.building.compound.grid.branch_id == branch_id)
            ),
            None,
        )
        if resident is None:
            branch_grids = Grid.objects.filter(community=community)
            if is_branch:
                branch_grids = branch_grids.filter(branch=organisations[organisation])
            compound = Compound.objects.filter(grid__in=branch_grids).order_by("grid__code").first()
            building, _ = ResidentialBuilding.objects.get_or_create(compound=compound, name="党员示范楼")
            dwelling, _ = Dwelling.objects.get_or_create(building=building, unit="1单元", room=f"{100 + number}")
            body = f"370502{1960 + number * 2}0{1 + number % 9}1{number % 10}{100 + number:03d}"
            identity = body + identity_check_character(body)
            resident = Resident.objects.with_identity_number(identity).first()
            if resident is None:
                resident = Resident(
                    name=name,
                    gender=Gender.MALE if int(identity[16]) % 2 else Gender.FEMALE,
                    birth_date=datetime.date(1960 + number * 2, 1 + number % 9, 10 + number % 10),
                    dwelling=dwelling,
                )
                resident.set_identity_number(identity)
                resident.save()
        taken.add(resident.pk)
        chosen.append(resident)
    return chosen


# --- Patrols: each grid's checklist from the templates, this month's patrols and findings ------

# The templates each Shanglong grid's checklist starts from; every grid also gets frontage order
# and sanitation. The restaurant streets of 韩国城 (05) and 乐活城 (06) and the food courts
# around 商业大厦 (02) get restaurant gas safety; low ground with bungalows (鲁园小区's elderly
# station in 01) gets the rainy season's flood points.
PATROL_TEMPLATES = {
    "01": ["flood_point", "parking"],
    "02": ["restaurant_gas", "small_venue", "parking"],
    "03": ["small_venue"],
    "04": ["small_venue", "parking"],
    "05": ["restaurant_gas", "small_venue"],
    "06": ["restaurant_gas", "small_venue", "parking"],
    "07": ["restaurant_gas"],
    "08": ["parking"],
    "09": ["small_venue", "flood_point"],
    "10": ["flood_point"],
    "11": ["restaurant_gas"],
    "12": ["parking"],
    "13": ["flood_point", "small_venue"],
}
PATROL_EVERY_GRID = ["frontage", "sanitation"]

# This month's patrols: (grid, walker's username, {failed template item: finding}, ended?).
# A finding: (description, place, merchant name, follow-ups [(username, note, close)]).
DEMO_PATROLS: list[tuple[str, str, dict[str, tuple[str, str, str, list[tuple[str, str, bool]]]], bool]] = [
    (
        "01",
        "grid",
        {
            "sanitation.bins": (
                "3号楼东侧垃圾桶满溢，周边有散落垃圾。",
                "鲁园小区3号楼东侧",
                "",
                [
                    ("grid", "已联系物业，当天下午清运完毕。", True),
                ],
            ),
        },
        True,
    ),
    (
        "05",
        "grid05",
        {
            "restaurant_gas.metal_hose": (
                "后厨液化气钢瓶用橡胶软管连接，长约3米。",
                "韩国城美食街",
                "首尔烤肉",
                [
                    ("grid05", "已告知店主，约定三日内更换为2米以内的金属软管。", False),
                ],
            ),
            "restaurant_gas.fire_blanket": ("厨房未配备灭火毯。", "韩国城美食街", "首尔烤肉", []),
        },
        True,
    ),
    (
        "06",
        "grid06",
        {
            "small_venue.no_ebike_charging": ("楼梯下有电动自行车电池在充电。", "乐活城二层", "乐活童装", []),
        },
        True,
    ),
    (
        "02",
        "grid02",
        {
            "frontage.goods_outside": (
                "门前摆放货架和促销台，占用人行道。",
                "商业大厦北门",
                "",
                [
                    ("grid02", "当场整改，货架已搬回店内。", True),
                ],
            ),
        },
        True,
    ),
    ("04", "grid04", {}, True),
    ("05", "grid05", {}, True),
    (
        "09",
        "grid09",
        {
            "small_venue.extinguishers": ("两具灭火器压力不足，已过检验期。", "西三路102号", "育英文具店", []),
        },
        True,
    ),
    ("12", "grid12", {}, True),
    (
        "06",
        "grid06",
        {
            "restaurant_gas.leak_alarm": ("燃气泄漏报警器未与切断阀联动。", "乐活城美食广场", "老街麻辣烫", []),
        },
        True,
    ),
    ("01", "grid01", {}, False),
]

# From the article: a grid worker of 鲁园小区 found a row of bungalows of the elderly station with
# no rain-drain pipes, so water stood on the road after rain.
LUYUAN_FINDING = (
    "鲁园老年站的一排平房没有配备雨排管线，雨天没有排放出口，路面积水难以消退，给居民出行带来不便。",
    "鲁园老年站平房",
    [
        ("grid", "走访附近居民：雨后积水要两三天才退，老人出行不便。", False),
        ("grid", "已与老年站及其所属部门沟通协调，安排施工安装雨排管。", False),
    ],
)


def seed_patrols(context: dict[str, Any]) -> None:
    """Checklists for Shanglong's 13 grids from the templates (idempotent through the
    templates' item keys); and, the first time only, about ten patrols of this month with some
    fails and their findings, among them the article's 鲁园老年站 standing water."""
    from django.utils import timezone

    from grids.actions import apply_checklist_template, ensure_checklist
    from grids.models import Finding, Outcome, Patrol, PatrolResult, PatrolStatus, month_bounds

    community: Community = context["community"]
    grids: dict[str, Grid] = context["grids"]
    admin = context["users"]["admin"]
    for code, grid in grids.items():
        ensure_checklist(grid=grid)
        for site_type in [*PATROL_TEMPLATES.get(code, []), *PATROL_EVERY_GRID]:
            apply_checklist_template(grid=grid, site_type=site_type, by=admin)
    if Patrol.objects.filter(grid__community=community).exists():
        return

    people = {user.username: user for user in User.objects.filter(username__in=_patrol_usernames())}
    now = timezone.now()
    today = timezone.localdate()
    month_start, _next = month_bounds(today)
    elapsed_days = (today - month_start.date()).days
    for number, (code, username, fails, ended) in enumerate(DEMO_PATROLS):
        walker = people[username]
        # Spread over the month so far, in working hours; never later than an hour ago (nor
        # before the month began, early on its first day).
        day = month_start.date() + datetime.timedelta(days=elapsed_days * number // len(DEMO_PATROLS))
        started = datetime.datetime.combine(
            day, datetime.time(9 + number % 6, 10 * (number % 5)), tzinfo=month_start.tzinfo
        )
        started = min(started, max(month_start, now - datetime.timedelta(hours=1)), now)
        patrol = Patrol.objects.create(grid=grids[code], started_by=walker, started_at=started)
        marked_at = started
        for item in patrol.items():
            marked_at = min(marked_at + datetime.timedelta(minutes=3), now)
            failed = fails.get(item.template_key)
            if failed is not None:
                outcome = Outcome.FAIL
            elif item.template_key == "restaurant_gas.no_lpg_below_ground":
                outcome = Outcome.NOT_APPLICABLE  # no basement kitchens on these streets
            else:
                outcome = Outcome.PASS
            result = PatrolResult.objects.create(
                patrol=patrol, item=item, outcome=outcome, marked_by=walker, marked_at=marked_at
            )
            if failed is None:
                continue
            description, place, merchant, follow_ups = failed
            finding = Finding.objects.create(
                grid=patrol.grid,
                patrol=patrol,
                result=result,
                item=item,
                description=description,
                place=place,
                merchant_name=merchant,
                reported_by=walker,
                reported_at=marked_at,
            )
            _demo_follow_ups(finding, follow_ups, people, now)
        if ended:
            Patrol.objects.filter(pk=patrol.pk).update(status=PatrolStatus.ENDED, ended_at=min(marked_at, now))
        if number == 0:
            description, place, follow_ups = LUYUAN_FINDING
            finding = Finding.objects.create(
                grid=patrol.grid,
                patrol=patrol,
                description=description,
                place=place,
                compound=Compound.objects.filter(grid=patrol.grid, name="鲁园小区").first(),
                reported_by=walker,
                reported_at=min(marked_at, now),
            )
            _demo_follow_ups(finding, follow_ups, people, now)


def _patrol_usernames() -> set[str]:
    names = {username for _code, username, _fails, _ended in DEMO_PATROLS}
    for _code, _username, fails, _ended in DEMO_PATROLS:
        for _description, _place, _merchant, follow_ups in fails.values():
            names.update(who for who, _note, _close in follow_ups)
    names.update(who for who, _note, _close in LUYUAN_FINDING[2])
    return names


def _demo_follow_ups(finding: Any, steps: list[tuple[str, str, bool]], people: dict[str, User], now: Any) -> None:
    from grids.models import FindingAction, FindingFollowUp, FindingStatus

    at = finding.reported_at
    for username, note, close in steps:
        at = min(at + datetime.timedelta(hours=2), now)
        state = FindingStatus.CLOSED if close else FindingStatus.FOLLOWED_UP
        FindingFollowUp.objects.create(
            finding=finding,
            by=people[username],
            at=at,
            note=note,
            action=FindingAction.CLOSE if close else FindingAction.FOLLOW_UP,
            from_status=finding.status,
            status=state,
        )
        finding.status = state
        finding.version += 1
        finding.closed_at = at if close else None
    if steps:
        finding.save(update_fields=["status", "version", "closed_at"])


# --- Visit ledger (台账) ----------------------------------------------------------------------
# A line for every current group membership of the demo residents, a few key enterprises, and
# visits over the past weeks: the demo "grid" user (张伟, 网格01) has subjects due this period and
# one overdue (周志强: weekly, face to face, last visited three weeks ago). Visits are written the
# first time a subject has none, relative to that day; later runs change nothing.

# (display name, grid code, risk colour)
DEMO_ENTERPRISES = [
    ("乐活城", "01", "yellow"),
    ("商业大厦", "02", "yellow"),
    ("供销商场", "04", "red"),
    ("韩国城服装市场", "05", "blue"),
]
# Visits of grid 01's lines, in weeks or months before today's period: (name, [(offset, way)]).
# Offsets: weeks back for weekly rules, months back for monthly ones; 0 is the current period.
DEMO_VISITS_01 = {
    "周志强": [(4, "face_to_face"), (3, "face_to_face"), (2, "phone")],  # overdue: last week missed
    "刘桂英": [(3, "face_to_face"), (2, "face_to_face"), (1, "face_to_face")],  # due this week
    "李春华": [(2, "face_to_face"), (1, "phone")],  # due this month
    "王秀兰": [(1, "face_to_face"), (0, "phone")],  # done this month
    "钱永福": [(1, "phone"), (0, "wechat")],  # done this month
    "乐活城": [(2, "face_to_face"), (1, "joint")],  # due this month
}
DEMO_VISIT_NOTES = {
    "face_to_face": ("身体和居住情况良好，家中整洁。", "讲解了防电信诈骗知识，留下联系卡。"),
    "phone": ("电话沟通，近况平稳。", ""),
    "wechat": ("微信联系，已回复，近况平稳。", ""),
    "joint": ("与市场监管所联合检查燃气和消防通道。", "现场讲解燃气安全要求。"),
}


def seed_ledger(context: dict[str, Any]) -> None:
    from django.utils import timezone

    from grids.actions import save_ledger_subject
    from grids.models import GroupMembership, LedgerCalendar, LedgerSubject, Visit, kind_for_group
    from grids.models.ledger import start_of_day
    from shanglong.models import Department

    community: Community = context["community"]
    grids: dict[str, Grid] = context["grids"]
    users: dict[str, User] = context["users"]
    memberships = GroupMembership.objects.filter(
        resident__dwelling__building__compound__grid__community=community
    ).select_related("resident__dwelling__building__compound")
    if not memberships.exists() and "residents" not in context:
        seed_people(context)  # the ledger needs people in groups: the people demo makes them
    heads = {
        assignment.grid_id: assignment.user
        for assignment in GridAssignment.objects.current().filter(grid__community=community, duty=Duty.HEAD)
    }
    entered = datetime.date(2025, 3, 1)
    subjects: dict[str, LedgerSubject] = {}
    for membership in memberships.order_by("pk"):
        resident = membership.resident
        grid = resident.dwelling.building.compound.grid
        subject = LedgerSubject.objects.filter(resident=resident, group=membership.kind).first()
        if subject is None:
            subject = LedgerSubject(
                kind=kind_for_group(membership.kind),
                name=resident.name,
                resident=resident,
                group=membership.kind,
                grid=grid,
                department=membership.department,
                level=membership.level,
                entered_on=max(membership.since, entered) if membership.until is None else membership.since,
                left_on=membership.until,
            )
            save_ledger_subject(subject=subject, team=_ledger_team(grid, heads, users), by=None)
        subjects[subject.name] = subject
    departments = {department.name: department for department in Department.objects.all()}
    for name, code, level in DEMO_ENTERPRISES:
        grid = grids[code]
        subject = LedgerSubject.objects.filter(grid=grid, name=name, kind="key_enterprise").first()
        if subject is None:
            subject = LedgerSubject(
                kind="key_enterprise",
                name=name,
                grid=grid,
                level=level,
                department=departments.get("市场监管所"),
                entered_on=entered,
                note="重点检查燃气、消防通道和门前三包。",
            )
            save_ledger_subject(subject=subject, team=_ledger_team(grid, heads, users), by=None)
        subjects[name] = subject

    calendar = LedgerCalendar.on(timezone.localdate())
    now = timezone.now()
    visits_planned = dict(DEMO_VISITS_01)
    # Elsewhere: one visit in the previous period for each line, one this period for every other.
    for number, (name, subject) in enumerate(sorted(subjects.items())):
        if subject.grid.code != "01":
            visits_planned.setdefault(name, [(1, "face_to_face")] + ([(0, "phone")] if number % 2 else []))
    # 供销商场 is overdue for its branch secretary's morning summary: last visited two weeks ago.
    visits_planned["供销商场"] = [(3, "face_to_face"), (2, "joint")]
    joint_department = departments.get("市场监管所")
    for name, planned in visits_planned.items():
        subject = subjects.get(name)
        if subject is None or subject.visits.exists():
            continue
        team = list(subject.team.all())
        recorder = team[0] if team else users["admin"]
        for offset, way in planned:
            period = calendar.current(subject.period)
            for _step in range(offset):
                period = period.previous()
            start = start_of_day(period.first) + datetime.timedelta(hours=9, minutes=30)
            visited_at = min(start + datetime.timedelta(days=1 if offset else 0), now - datetime.timedelta(minutes=5))
            if visited_at < start_of_day(period.first):
                continue  # the period began minutes ago: no visit in it yet
            found, help_given = DEMO_VISIT_NOTES[way]
            visit = Visit.objects.create(
                subject=subject,
                visited_at=visited_at,
                way=way,
                joint_department=joint_department if way == "joint" else None,
                found=found,
                help_given=help_given,
                recorded_by=recorder,
                recorded_at=visited_at,
            )
            visit.workers.set(team[:2] or [recorder])
    context["ledger_subjects"] = subjects


def _ledger_team(grid: Grid, heads: dict[int, User], users: dict[str, User]) -> list[User]:
    """The responsible team (包保) of a demo line: the grid's head, and in 网格01 also 张伟."""
    team = [heads[grid.pk]] if grid.pk in heads else []
    if grid.code == "01" and grid.community_id == users["grid"].community_id:
        team.append(users["grid"])
    return team
