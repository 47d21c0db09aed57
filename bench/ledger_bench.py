#!/usr/bin/env python
"""Benchmark of the visit ledger on a district-sized data set in PostgreSQL (a script, not a test).

    .venv/bin/python bench/ledger_bench.py [--database-url URL] [--rebuild] [--requests 20]

It creates the database if it is missing and migrates it (manage.py migrate with that
DATABASE_URL), builds the data set once with COPY (300 grids, 1,000 grid workers, 300,000 ledger
subjects with a realistic mix of rules, 1,000,000 visits over a year; reused on later runs, rebuilt
with --rebuild), then times:

- the morning sweep (grids.actions.send_visit_reminders): a fresh run and a rerun;
- My day of a typical grid worker: the median of N warm requests, measured in-process around
  Django's test Client (the server's time: middleware, view, queries, template), with its query
  count, compared with the query count of the demo data's grid worker (seed_demo is loaded into
  the same database, beside the bench's communities);
- for reference, My day of a branch secretary and the ledger list of the grid worker.

Targets: the sweep under 15 s; My day under 50 ms with the same query count as on demo data.
The figures go to bench/README.md. See there for the data set's mix.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shanglong_bench"
BENCH_CODE = "bench"  # subdistrict codes bench-sd-N, community codes bench-c-N
SEED = 20261127


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build the data set again")
    parser.add_argument("--requests", type=int, default=20, help="warm requests timed per page (median reported)")
    parser.add_argument("--grids", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--subjects", type=int, default=300_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    return parser.parse_args()


# --- The database ----------------------------------------------------------------------------


def ensure_database(url: str, *, rebuild: bool) -> None:
    """Create the database if it does not exist (dropping it first with --rebuild)."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    server = urlunparse(parts._replace(path="/postgres"))
    connection = psycopg.connect(server, autocommit=True)
    try:
        with connection.cursor() as cursor:
            if rebuild:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}")
    finally:
        connection.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanglong.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, chunk: int = 200_000) -> int:
    """COPY rows into a table in chunks; returns the number written."""
    from django.db import connection

    written = 0
    buffer = io.StringIO()
    pending = 0
    column_list = ", ".join(f'"{column}"' for column in columns)

    def flush() -> None:
        nonlocal buffer, pending
        if not pending:
            return
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        buffer = io.StringIO()
        pending = 0

    for row in rows:
        buffer.write("\t".join(_text(value) for value in row))
        buffer.write("\n")
        pending += 1
        written += 1
        if pending >= chunk:
            flush()
    flush()
    return written


def reset_sequences(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


def next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


# --- The data set ----------------------------------------------------------------------------

SPECIAL = [("elderly_empty_nest", 30), ("elderly_alone", 25), ("disability", 20), ("low_income", 15)]
SPECIAL += [("child_in_difficulty", 10)]
KEY = [("community_correction", 25), ("released_prisoner", 25), ("severe_mental_disorder", 20)]
KEY += [("drug_user", 15), ("key_youth", 15)]
# Each group's level on its own scale (grids.models.groups.SCALES), keyed by Scale.code.
LEVELS = {
    "care": [("key_care", 10), ("general_care", 90)],
    "control": [("strict", 25), ("normal", 55), ("light", 20)],
    "aftercare": [("aftercare", 80), ("past_aftercare", 20)],
    "risk_grade": [("risk_0", 30), ("risk_1", 30), ("risk_2", 20), ("risk_3", 12), ("risk_4", 5), ("risk_5", 3)],
    "department": [("dept_high", 20), ("dept_medium", 50), ("dept_low", 30)],
    "risk_colour": [("red", 5), ("orange", 15), ("yellow", 50), ("blue", 30)],
}
DEPARTMENT_OF = {
    "community_correction": "司法所",
    "released_prisoner": "司法所",
    "severe_mental_disorder": "社区卫生服务站",
    "drug_user": "派出所",
    "key_youth": "综治中心",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强玉兰海燕春梅德胜淑珍凤英"


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _weight in weighted], weights=[weight for _value, weight in weighted])[0]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def bench_exists() -> bool:
    from grids.models import LedgerSubject

    return LedgerSubject.objects.filter(grid__community__code__startswith=f"{BENCH_CODE}-c-").exists()


def build(options: argparse.Namespace) -> None:
    """The district: 300 grids in 25 communities of 5 subdistricts, 4 branches per community
    (each with a staff secretary), 1,000 grid workers on duty, one compound and building per grid;
    residents in groups for the group lines; the ledger and a year of visits."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from grids.models import (
        Compound,
        Duty,
        Grid,
        GridAssignment,
        GroupAccessRule,
        LedgerSubject,
        OrganisationKind,
        PartyOrganisation,
        ResidentialBuilding,
        Visit,
        default_visit_rule,
        scale_for,
    )
    from grids.models.ledger import start_of_day
    from shanglong.crypto import encrypt_text, keyed_hash
    from shanglong.models import Community, Department, DepartmentLevel, Subdistrict, User
    from shanglong.roles import Role
    from shanglong.validators import identity_check_character

    rng = random.Random(SEED)
    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    grids_per_community = 12
    communities_count = max(1, options.grids // grids_per_community)
    password = make_password("Bench-2026")

    with transaction.atomic():
        subdistricts = [
            Subdistrict.objects.create(name=f"基准街道{n}", district="东营区", code=f"{BENCH_CODE}-sd-{n}")
            for n in range(5)
        ]
        communities = [
            Community.objects.create(
                subdistrict=subdistricts[n % len(subdistricts)], name=f"基准社区{n:02d}", code=f"{BENCH_CODE}-c-{n:02d}"
            )
            for n in range(communities_count)
        ]
        departments: dict[tuple[int, str], Department] = {}
        for subdistrict in subdistricts:
            for name in ("民政办", "司法所", "派出所", "社区卫生服务站", "综治中心", "市场监管所"):
                departments[(subdistrict.pk, name)] = Department.objects.create(
                    name=name, level=DepartmentLevel.SUBDISTRICT, subdistrict=subdistrict
                )
        staff = User.objects.bulk_create(
            [
                User(
                    username=f"bench-staff-{n:04d}",
                    password=password,
                    role=Role.STAFF,
                    full_name=person_name(rng),
                    community=communities[n // 4],
                    subdistrict=communities[n // 4].subdistrict,
                )
                for n in range(communities_count * 4)
            ]
        )
        branches = []
        for number, community in enumerate(communities):
            committee = PartyOrganisation.objects.create(
                community=community, name=f"{community.name}党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
            )
            for branch in range(4):
                branches.append(
                    PartyOrganisation(
                        community=community,
                        name=f"第{branch + 1}网格党支部",
                        kind=OrganisationKind.GRID_BRANCH,
                        parent=committee,
                        secretary=staff[number * 4 + branch],
                    )
                )
        branches = PartyOrganisation.objects.bulk_create(branches)
        box = {"type": "Polygon", "coordinates": [[[118.49, 37.46], [118.5, 37.46], [118.5, 37.47], [118.49, 37.46]]]}
        grids = Grid.objects.bulk_create(
            [
                Grid(
                    community=communities[n // grids_per_community],
                    code=f"{n % grids_per_community + 1:02d}",
                    name=f"网格{n % grids_per_community + 1:02d}",
                    branch=branches[(n // grids_per_community) * 4 + (n % grids_per_community) // 3],
                    boundary=box,
                )
                for n in range(communities_count * grids_per_community)
            ]
        )
        workers = User.objects.bulk_create(
            [
                User(
                    username=f"bench-grid-{n:04d}",
                    password=password,
                    role=Role.GRID_WORKER,
                    full_name=person_name(rng),
                    community=grids[n % len(grids)].community,
                    subdistrict=grids[n % len(grids)].community.subdistrict,
                )
                for n in range(options.workers)
            ]
        )
        workers_of: dict[int, list[User]] = {}
        assignments = []
        for n, worker in enumerate(workers):
            grid = grids[n % len(grids)]
            workers_of.setdefault(grid.pk, []).append(worker)
            duty = Duty.HEAD if len(workers_of[grid.pk]) == 1 else Duty.FULL_TIME
            assignments.append(GridAssignment(user=worker, grid=grid, duty=duty, since=datetime.date(2025, 1, 1)))
        GridAssignment.objects.bulk_create(assignments)
        compounds = Compound.objects.bulk_create([Compound(grid=grid, name=f"{grid.name}小区") for grid in grids])
        buildings = ResidentialBuilding.objects.bulk_create(
            [ResidentialBuilding(compound=compound, name="1号楼") for compound in compounds]
        )
        for community in communities:
            GroupAccessRule.objects.ensure_for(community)
    print(f"organisation: {len(grids)} grids, {len(workers)} workers ({time.perf_counter() - started:.1f} s)")

    # The subjects, planned in memory first.
    subjects: list[dict[str, Any]] = []
    for n in range(options.subjects):
        grid_index = n % len(grids)
        roll = rng.random()
        kind = "key_enterprise" if roll < 0.20 else "special_group" if roll < 0.75 else "key_person"
        group = "" if kind == "key_enterprise" else pick(rng, SPECIAL if kind == "special_group" else KEY)
        level = pick(rng, LEVELS[scale_for(group).code])
        rule = default_visit_rule(level=level, group=group)
        custom = rule.period == "month" and rng.random() < 0.05
        subjects.append(
            {
                "grid": grid_index,
                "kind": kind,
                "group": group,
                "level": level,
                "visits": 2 if custom else rule.visits,
                "period": rule.period,
                "f2f": rule.face_to_face_only,
                "custom": custom,
                "entered": today - datetime.timedelta(days=rng.randint(30, 1500)),
                "left": None,
            }
        )
        if rng.random() < 0.03:  # three in a hundred have left the ledger
            entered = subjects[-1]["entered"]
            subjects[-1]["left"] = max(entered, today - datetime.timedelta(days=rng.randint(1, 200)))

    # Dwellings, residents and group memberships for the group lines (four residents a flat).
    sensitive = [subject for subject in subjects if subject["kind"] != "key_enterprise"]
    dwelling_id = next_id("grids_dwelling")
    resident_id = next_id("grids_resident")
    membership_id = next_id("grids_groupmembership")
    dwelling_rows, resident_rows, membership_rows = [], [], []
    created = now.isoformat()
    flats: dict[int, list[int]] = {}  # grid index -> [its current flat, people in it]
    for number, subject in enumerate(sensitive):
        flat = flats.get(subject["grid"])
        if flat is None or flat[1] == 4:
            building = buildings[subject["grid"]]
            dwelling_rows.append((dwelling_id, building.pk, "", str(number)))
            flat = flats[subject["grid"]] = [dwelling_id, 0]
            dwelling_id += 1
        flat[1] += 1
        current_dwelling = flat[0]
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 25_000))
        body = f"370502{birth:%Y%m%d}{number % 1000:03d}"
        identity = body + identity_check_character(body)
        name = person_name(rng)
        subject["resident"] = resident_id
        subject["name"] = name
        resident_rows.append(
            (
                resident_id,
                name,
                "male" if number % 2 else "female",
                birth,
                "resident_id",
                encrypt_text(identity),
                keyed_hash(f"{identity}#{number}"),  # unique per bench resident
                "",
                current_dwelling,
                None,
                "",
                "household_registered",
                None,
                None,
                created,
            )
        )
        subdistrict_id = grids[subject["grid"]].community.subdistrict_id
        department = departments[(subdistrict_id, DEPARTMENT_OF.get(subject["group"], "民政办"))]
        subject["department"] = department.pk
        membership_rows.append(
            (
                membership_id,
                resident_id,
                subject["group"],
                subject["level"],
                rng.randint(1, 4) if subject["group"] == "disability" else None,
                department.pk,
                subject["entered"],
                None,
                "",
            )
        )
        resident_id += 1
        membership_id += 1
    copy_rows("grids_dwelling", ["id", "building_id", "unit", "room"], dwelling_rows)
    copy_rows(
        "grids_resident",
        [
            "id",
            "name",
            "gender",
            "birth_date",
            "id_type",
            "id_number",
            "id_number_hash",
            "mobile",
            "dwelling_id",
            "household_id",
            "relation",
            "registration_status",
            "moved_in",
            "moved_out",
            "created_at",
        ],
        resident_rows,
    )
    copy_rows(
        "grids_groupmembership",
        ["id", "resident_id", "kind", "level", "disability_grade", "department_id", "since", "until", "note"],
        membership_rows,
    )
    del dwelling_rows, resident_rows, membership_rows
    print(f"people: {len(sensitive)} residents in groups ({time.perf_counter() - started:.1f} s)")

    # The ledger and the responsible teams (one or two of the grid's workers; 3 % have none).
    subject_id = next_id("grids_ledgersubject")
    team_id = next_id("grids_ledgersubject_team")
    subject_rows, team_rows = [], []
    for number, subject in enumerate(subjects):
        subject["id"] = subject_id
        grid = grids[subject["grid"]]
        on_duty = workers_of.get(grid.pk, [])
        team = (
            [] if rng.random() < 0.03 or not on_duty else rng.sample(on_duty, k=min(len(on_duty), rng.choice((1, 2))))
        )
        subject["team"] = [worker.pk for worker in team] or [worker.pk for worker in on_duty[:1]]
        if subject["kind"] == "key_enterprise":
            subject["name"] = f"企业{number:06d}"
            subject["resident"] = None
            subject["department"] = None
        subject_rows.append(
            (
                subject_id,
                subject["kind"],
                subject["name"],
                subject["resident"],
                subject["group"],
                grid.pk,
                subject["department"],
                subject["level"],
                subject["visits"],
                subject["period"],
                subject["f2f"],
                subject["custom"],
                bool(team),
                subject["entered"],
                subject["left"],
                "",
                created,
            )
        )
        for worker in team:
            team_rows.append((team_id, subject_id, worker.pk))
            team_id += 1
        subject_id += 1
    copy_rows(
        "grids_ledgersubject",
        [
            "id",
            "kind",
            "name",
            "resident_id",
            "group",
            "grid_id",
            "department_id",
            "level",
            "visits_required",
            "period",
            "face_to_face_only",
            "rule_is_custom",
            "has_team",
            "entered_on",
            "left_on",
            "note",
            "created_at",
        ],
        subject_rows,
    )
    copy_rows("grids_ledgersubject_team", ["id", "ledgersubject_id", "user_id"], team_rows)
    del subject_rows, team_rows
    print(f"ledger: {len(subjects)} subjects ({time.perf_counter() - started:.1f} s)")

    # A year of visits: subjects drawn in proportion to their rule (weekly ones 52 times as often
    # as a once-a-month one is 12), dates leaning to the recent weeks, ways by the rule; one visit
    # in two hundred corrects the subject's previous one.
    weights = [(52 if subject["period"] == "week" else 12) * subject["visits"] for subject in subjects]
    cumulative = []
    total = 0
    for weight in weights:
        total += weight
        cumulative.append(total)
    chosen = rng.choices(range(len(subjects)), cum_weights=cumulative, k=options.visits)
    visit_id = next_id("grids_visit")
    worker_link_id = next_id("grids_visit_workers")
    last_visit: dict[int, int] = {}
    corrected: set[int] = set()

    def visit_rows() -> Iterable[tuple[Any, ...]]:
        nonlocal visit_id
        for index in chosen:
            subject = subjects[index]
            days_ago = int(rng.triangular(0, 365, 0))
            day = today - datetime.timedelta(days=days_ago)
            if day < subject["entered"]:
                day = subject["entered"]
            moment = start_of_day(day) + datetime.timedelta(minutes=rng.randint(8 * 60, 18 * 60))
            if moment > now:
                moment = now - datetime.timedelta(minutes=rng.randint(1, 60))
            if subject["f2f"]:
                way = pick(rng, [("face_to_face", 80), ("joint", 10), ("phone", 10)])
            else:
                way = pick(rng, [("face_to_face", 40), ("phone", 45), ("wechat", 15)])
            corrects = None
            previous = last_visit.get(index)
            if previous is not None and previous not in corrected and rng.random() < 0.005:
                corrects = previous
                corrected.add(previous)
            yield (
                visit_id,
                subject["id"],
                moment,
                way,
                None,
                "近况平稳。",
                "",
                "",
                None,
                None,
                None,
                None,
                corrects,
                "登记有误,更正。" if corrects else "",
                subject["team"][0],
                moment,
            )
            last_visit[index] = visit_id
            visit_id += 1

    first_visit = visit_id
    copy_rows(
        "grids_visit",
        [
            "id",
            "subject_id",
            "visited_at",
            "way",
            "joint_department_id",
            "found",
            "help_given",
            "problems",
            "finding_id",
            "signature_id",
            "latitude",
            "longitude",
            "corrects_id",
            "correction_reason",
            "recorded_by_id",
            "recorded_at",
        ],
        visit_rows(),
    )
    copy_rows(
        "grids_visit_workers",
        ["id", "visit_id", "user_id"],
        (
            (worker_link_id + offset, first_visit + offset, subjects[index]["team"][0])
            for offset, index in enumerate(chosen)
        ),
    )
    reset_sequences(
        "grids_dwelling",
        "grids_resident",
        "grids_groupmembership",
        "grids_ledgersubject",
        "grids_ledgersubject_team",
        "grids_visit",
        "grids_visit_workers",
    )
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("grids_resident", "grids_groupmembership", "grids_ledgersubject", "grids_ledgersubject_team"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE grids_visit")
        cursor.execute("ANALYZE")
    print(
        f"visits: {Visit.objects.count()} ({len(corrected)} corrections); "
        f"subjects: {LedgerSubject.objects.count()} ({time.perf_counter() - started:.1f} s)"
    )


# --- Measurements ----------------------------------------------------------------------------


def timed_requests(client: Any, url: str, count: int) -> tuple[float, int, int]:
    """(median ms of `count` warm requests, queries of one request, status)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm: connections, templates, caches
        client.get(url)
    connection.queries_log.clear()  # DEBUG keeps the last 9,000 queries: a full log counts none
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    durations = []
    for _ in range(count):
        begin = time.perf_counter()
        client.get(url)
        durations.append((time.perf_counter() - begin) * 1000)
    return statistics.median(durations), len(queries.captured_queries), response.status_code


def measure(options: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from grids.actions import send_visit_reminders
    from grids.models import LedgerSubject, PartyOrganisation, Visit
    from shanglong import tasks
    from shanglong.models import Notification, User

    # The deliveries are the core's worker's job, not the sweep's.
    tasks.deliver_notifications_task.delay_on_commit = lambda *args, **kwargs: None
    results: dict[str, Any] = {
        "subjects": LedgerSubject.objects.count(),
        "visits": Visit.objects.count(),
    }
    today = timezone.localdate()
    Notification.objects.filter(dedupe_key__endswith=today.isoformat()).delete()
    begin = time.perf_counter()
    sent = send_visit_reminders(on=today)
    results["sweep_s"] = time.perf_counter() - begin
    results["sweep_messages"] = sent
    begin = time.perf_counter()
    send_visit_reminders(on=today)
    results["rerun_s"] = time.perf_counter() - begin
    results["notifications_today"] = Notification.objects.filter(dedupe_key__endswith=today.isoformat()).count()

    # A typical grid worker: the median number of subjects in their care (team members).
    through = LedgerSubject.team.through.objects
    loads = list(
        through.filter(user__username__startswith="bench-grid-")
        .values("user_id")
        .annotate(subjects=Count("ledgersubject_id"))
        .order_by("subjects", "user_id")
    )
    typical = loads[len(loads) // 2]
    worker = User.objects.get(pk=typical["user_id"])
    client = Client(HTTP_HOST="localhost")
    client.force_login(worker)
    my_day = reverse("grids:my_day")
    results["worker"] = worker.username
    results["worker_subjects"] = typical["subjects"]
    results["worker_needing"] = (
        LedgerSubject.objects.visible_to(worker).in_care_of(worker).with_status(today).needing_visits().count()
    )
    results["my_day_ms"], results["my_day_queries"], status = timed_requests(client, my_day, options.requests)
    assert status == 200, status
    results["ledger_ms"], results["ledger_queries"], _status = timed_requests(
        client, reverse("grids:ledger_list"), options.requests
    )
    branch = (
        PartyOrganisation.objects.select_related("secretary")
        .filter(secretary__username__startswith="bench-staff-")
        .first()
    )
    assert branch is not None, "the bench data has no branch secretaries"
    assert branch.secretary is not None
    client.force_login(branch.secretary)
    results["secretary_ms"], results["secretary_queries"], _status = timed_requests(client, my_day, options.requests)

    # The demo data's grid worker, in the same database.
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(username="grid"))
    _ms, results["demo_my_day_queries"], _status = timed_requests(client, my_day, 1)
    return results


def report(results: dict[str, Any], build_seconds: float | None, options: argparse.Namespace) -> str:
    lines = [
        f"- data set: {results['subjects']:,} subjects, {results['visits']:,} visits"
        + (f" (built in {build_seconds:.0f} s)" if build_seconds else " (reused)"),
        f"- morning sweep: {results['sweep_s']:.2f} s for {results['sweep_messages']:,} messages; "
        f"rerun {results['rerun_s']:.2f} s, {results['notifications_today']:,} notifications in all (none twice)",
        f"- My day ({results['worker']}, {results['worker_subjects']} subjects in care, "
        f"{results['worker_needing']} needing a visit): median {results['my_day_ms']:.1f} ms of "
        f"{options.requests}, {results['my_day_queries']} queries (demo data's grid worker: "
        f"{results['demo_my_day_queries']} queries)",
        f"- ledger list (same worker, first page of 50): median {results['ledger_ms']:.1f} ms, "
        f"{results['ledger_queries']} queries",
        f"- My day of a branch secretary (3 grids): median {results['secretary_ms']:.1f} ms, "
        f"{results['secretary_queries']} queries",
    ]
    return "\n".join(lines)


def main() -> None:
    options = parse_args()
    ensure_database(options.database_url, rebuild=options.rebuild)
    setup_django(options.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build_seconds = None
    if not bench_exists():
        begin = time.perf_counter()
        build(options)
        build_seconds = time.perf_counter() - begin
    else:
        print("reusing the data set (--rebuild to build it again)")
    results = measure(options)
    print(report(results, build_seconds, options))
    ok = results["sweep_s"] < 15 and results["my_day_ms"] < 50
    ok = ok and results["my_day_queries"] == results["demo_my_day_queries"]
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
