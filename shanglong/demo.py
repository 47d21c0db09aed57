"""The core's demo data: 文汇街道 (东营区) with 商隆社区, its departments, one user per role.

`manage.py seed_demo` calls `seed(context)` in every installed app that has a `demo` module, in
INSTALLED_APPS order (so grids before merchants before services ...). Each seeder is idempotent
and adds what it made to the shared context for the apps after it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import models

from shanglong.models import Community, Department, DepartmentLevel, Subdistrict, User
from shanglong.roles import Role
from shanglong.workdays import load_official_calendar

DATA_DIR = Path(__file__).resolve().parent / "data"
# 统计用区划代码: 东营区 370502, 文汇街道 003; 商隆社区's village-level number is the demo's own.
WENHUI_AREA_CODE = "370502003000"
SHANGLONG_AREA_CODE = "370502003011"
DEMO_PASSWORD = "Shanglong-2026"

# (username, full name, role, superuser, department name)
DEMO_USERS = [
    ("admin", "王建华", Role.COMMUNITY_ADMIN, True, None),
    ("staff", "李晓燕", Role.STAFF, False, None),
    ("grid", "张伟", Role.GRID_WORKER, False, None),
    ("merchant", "刘芳", Role.MERCHANT, False, None),
    ("volunteer", "陈静", Role.VOLUNTEER, False, None),
    ("dept", "赵强", Role.DEPARTMENT, False, "司法所"),
    ("street", "孙丽", Role.SUBDISTRICT_STAFF, False, None),
    ("audit", "周敏", Role.AUDIT_ADMIN, False, None),
]

# (name, level, community-level?)
DEPARTMENTS = [
    ("司法所", DepartmentLevel.SUBDISTRICT),
    ("派出所", DepartmentLevel.SUBDISTRICT),
    ("综合执法中队", DepartmentLevel.SUBDISTRICT),
    ("民政办", DepartmentLevel.SUBDISTRICT),
    ("市场监管所", DepartmentLevel.SUBDISTRICT),
    ("综治中心", DepartmentLevel.SUBDISTRICT),
    ("消防救援站", DepartmentLevel.DISTRICT),
    ("区人社局", DepartmentLevel.DISTRICT),
    ("社区卫生服务站", DepartmentLevel.COMMUNITY),
]


def load_facts() -> dict[str, Any]:
    return json.loads((DATA_DIR / "shanglong_facts.json").read_text(encoding="utf-8"))


def rectangle(center_lon: float, center_lat: float, width_deg: float, height_deg: float) -> dict[str, Any]:
    west, east = center_lon - width_deg / 2, center_lon + width_deg / 2
    south, north = center_lat - height_deg / 2, center_lat + height_deg / 2
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


# 0.86 km² at latitude 37.46: 1.0 km east-west by 0.86 km north-south.
SHANGLONG_WIDTH_DEG = 0.011318
SHANGLONG_HEIGHT_DEG = 0.007748


def upsert(model: type[models.Model], *, defaults: dict[str, Any], **lookup: Any) -> tuple[Any, bool]:
    """update_or_create that saves only when a value differs, so seeding again writes no change
    history (update_or_create saves every time, and each save is a history row)."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return model._default_manager.create(**lookup, **defaults), True
    changed = [name for name, value in defaults.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, defaults[name])
    if changed:
        instance.save(update_fields=changed)
    return instance, False


def demo_user(
    username: str,
    *,
    full_name: str,
    role: str,
    community: Community | None,
    subdistrict: Subdistrict | None = None,
    department: Department | None = None,
    superuser: bool = False,
) -> User:
    """A demo login: created with the demo password, set to these values on every seeding (the
    password is never reset). Its subdistrict is its community's unless it has no community."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username)
        user.set_password(DEMO_PASSWORD)
    user.full_name = full_name
    user.role = role
    user.is_superuser = user.is_staff = superuser
    user.community = community
    user.subdistrict = community.subdistrict if community is not None else subdistrict
    user.department = department
    user.save()
    return user


def seed(context: dict[str, Any]) -> None:
    facts = load_facts()
    street = facts["street"]
    subdistrict, _ = upsert(
        Subdistrict,
        code="370502-wenhui",
        defaults={"name": street["name_zh"], "district": street["district_zh"], "area_code": WENHUI_AREA_CODE},
    )
    info = facts["community"]
    lon, lat = info["approx_center_wgs84"]
    shanglong, _ = upsert(
        Community,
        code="370502-wenhui-shanglong",
        defaults={
            "subdistrict": subdistrict,
            "name": info["name_zh"],
            "area_code": SHANGLONG_AREA_CODE,
            "area_km2": Decimal(str(info["area_km2"])),
            "center_latitude": Decimal(str(lat)),
            "center_longitude": Decimal(str(lon)),
            "boundary": rectangle(lon, lat, SHANGLONG_WIDTH_DEG, SHANGLONG_HEIGHT_DEG),
            "facts": {
                "residential_compounds": info["residential_compounds"],
                "enterprises": info["enterprises"],
                "individual_businesses_about": info["individual_businesses_about"],
                "grid_party_branches": facts["party"]["grid_party_branches"],
                "grids": facts["party"]["grids_before_merge"],
                "landmarks": facts["commercial_landmarks_zh"],
                "streets": facts["streets_zh"],
            },
        },
    )
    departments = {}
    for name, level in DEPARTMENTS:
        department, _ = upsert(
            Department,
            name=name,
            subdistrict=subdistrict if level != DepartmentLevel.COMMUNITY else None,
            community=shanglong if level == DepartmentLevel.COMMUNITY else None,
            defaults={"level": level},
        )
        departments[name] = department
    users = {
        username: demo_user(
            username,
            full_name=full_name,
            role=role,
            community=None if role == Role.SUBDISTRICT_STAFF else shanglong,
            subdistrict=subdistrict,
            department=departments[department_name] if department_name else None,
            superuser=superuser,
        )
        for username, full_name, role, superuser, department_name in DEMO_USERS
    }
    context.update({"subdistrict": subdistrict, "community": shanglong, "departments": departments, "users": users})
    # The official holidays and make-up working days, so deadlines count right from the start.
    load_official_calendar()
