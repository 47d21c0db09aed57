#!/usr/bin/env python
"""What each daily page and API list costs beyond Django itself (a benchmark, not a test).

    .venv/bin/python bench/page_cost.py                       # postgres://postgres@127.0.0.1:5432/shanglong_pagecost
    .venv/bin/python bench/page_cost.py --requests 50 --only grid
    .venv/bin/python bench/page_cost.py --database-url postgres://postgres@127.0.0.1:5432/shanglong_bench --no-setup
    .venv/bin/python bench/page_cost.py --env DB_CONN_MAX_AGE=0   # the portal with one setting changed

It creates the database if it is missing, migrates it and loads the demo data (seed_demo, once:
skipped when the demo's users are there; --no-setup skips both), collects the static files,
starts the portal under gunicorn (2 workers, DEBUG=0, PostgreSQL) and the bare Django view of
bench/bare_wsgi.py under gunicorn the same way, logs in as each demo role, and fetches every
path N times (--requests, default 200), each fetch of a path right after a fetch of the bare
view, the paths in a shuffled order each round. Pointed at the district-sized data set of
bench/ledger_bench.py (its database has the demo data beside it), the same paths show whether
the figures grow with the data.

Per path it prints the median and the 95th percentile in ms, the queries the request ran (the
X-Query-Count header that the portal adds when SHANGLONG_QUERY_COUNT_HEADER=1: counted in the
served process itself, so on PostgreSQL with DEBUG off and through every middleware, which a
test client in this process would not be), the ratio of the median to the bare view's median,
and for HTML pages the gzipped size and the page's own JavaScript (scripts under /static/, less
the vendored Leaflet). Then TARGETS MET or TARGETS MISSED: HTML pages at most 8x the bare view,
API lists at most 5x, the grid worker's pages at most 30 KB of gzipped HTML and 50 KB of their
own JavaScript. Requests go one at a time, so the figures are the server's latency, not its
throughput. The figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shanglong_pagecost"
PASSWORD = "Shanglong-2026"  # shanglong.demo.DEMO_PASSWORD

HTML_RATIO_TARGET = 8.0
API_RATIO_TARGET = 5.0
HTML_GZIP_TARGET = 30 * 1024
OWN_JS_TARGET = 50 * 1024
VENDOR_SCRIPTS = ("/static/leaflet/",)

API_LISTS = ["/api/v1/ledger-subjects/", "/api/v1/residents/", "/api/v1/visits/", "/api/v1/ledger-due/"]
DAILY_PAGES = [
    "/grids/my-day/",
    "/grids/ledger/",
    "/grids/residents/",
    "/grids/patrols/",
    "/grids/findings/",
    "/grids/map/",
    "/grids/party/",
]
# (username, who, the paths besides their start page). "start" is where logging in lands.
LOGINS = [
    ("grid", "grid worker", [p for p in DAILY_PAGES if p != "/grids/my-day/"] + API_LISTS),
    ("staff", "staff", DAILY_PAGES + API_LISTS),
    ("branch2", "branch secretary", ["/grids/my-day/"]),
    ("admin", "community admin", []),
    ("dept", "department", []),
    ("street", "subdistrict staff", []),
    ("audit", "audit admin", []),
]
GRID_WORKER = "grid"

# The settings DEBUG=0 needs. The field keys are the development ones seed_demo encrypted with.
PORTAL_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-page-cost-secret-key-not-for-production-0123456789abcdef",
    "FIELD_ENCRYPTION_KEY": "00112233445566778899aabbccddeeff",
    "FIELD_HASH_KEY": "dev-only-field-hash-key",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_HSTS_SECONDS": "0",
    "SHANGLONG_QUERY_COUNT_HEADER": "1",
    "LOG_LEVEL": "WARNING",
    "VAR_DIR": "/tmp/shanglong_pagecost/var",
    "STATIC_ROOT": "/tmp/shanglong_pagecost/static",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--requests", type=int, default=200, help="timed fetches per path (as many of the bare view)")
    parser.add_argument("--no-setup", action="store_true", help="do not create, migrate or seed the database")
    parser.add_argument("--port", type=int, default=8471, help="the portal's port (the bare view's is the next one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base-url", help="a portal already running (started with the env above); not started")
    parser.add_argument("--bare-url", help="a bare view already running; not started")
    parser.add_argument("--only", action="append", default=[], help="only these usernames (repeatable)")
    parser.add_argument("--path", action="append", default=[], help="only paths containing this (repeatable)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the portal (repeatable)")
    parser.add_argument("--seed", type=int, default=20261204)
    return parser.parse_args()


# --- Setting up --------------------------------------------------------------------------------


def portal_env(args: argparse.Namespace) -> dict[str, str]:
    env = {**os.environ, **PORTAL_ENV, "DATABASE_URL": args.database_url}
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    Path(env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    return env


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def set_up_database(args: argparse.Namespace, env: dict[str, str]) -> None:
    import psycopg

    parts = urlparse(args.database_url)
    name = parts.path.lstrip("/")
    server = psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True)
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    server.close()
    manage(env, "migrate", "--noinput", "-v0")
    database = psycopg.connect(args.database_url)
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM shanglong_user WHERE username = ANY(%s)", [[u for u, _, _ in LOGINS]])
        row = cursor.fetchone()
        seeded = row is not None and row[0] == len(LOGINS)
    database.close()
    if not seeded:
        print("loading the demo data (seed_demo)")
        manage(env, "seed_demo")


def start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    return [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app]


def wait_for(base: str, path: str, process: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"the server for {base} stopped (exit {process.returncode}); see its log")
        try:
            fetch(base, path, {})
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{base} did not answer within {timeout:.0f} s")


# --- Fetching ----------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


def fetch(base: str, path: str, cookies: dict[str, str], *, form: dict[str, str] | None = None) -> Response:
    """One request on a new connection (gunicorn's sync workers close each one), as over HTTPS
    behind a proxy (X-Forwarded-Proto), with the cookies given; timed to the body's last byte."""
    parts = urlparse(base)
    headers = {"X-Forwarded-Proto": "https", "Accept-Encoding": "identity"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://{parts.netloc}"
        headers["Referer"] = f"https://{parts.netloc}{path}"
    began = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        answer = connection.getresponse()
        content = answer.read()
    finally:
        connection.close()
    return Response(answer.status, answer.headers, content, time.perf_counter() - began)


def remember_cookies(response: Response, cookies: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value


def log_in(base: str, username: str) -> tuple[dict[str, str], str]:
    """The session cookies of a real log-in through the login form, and where it lands."""
    cookies: dict[str, str] = {}
    page = fetch(base, "/login/", cookies)
    remember_cookies(page, cookies)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or token is None:
        sys.exit(f"the login page answered {page.status} without a form")
    answer = fetch(
        base,
        "/login/",
        cookies,
        form={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()},
    )
    remember_cookies(answer, cookies)
    if answer.status != 302 or "sessionid" not in cookies:
        sys.exit(f"logging in as {username} answered {answer.status}: is the demo data loaded?")
    return cookies, urlparse(answer.headers["Location"]).path


@dataclass
class Target:
    username: str
    who: str
    path: str
    cookies: dict[str, str]
    times: list[float] = field(default_factory=list)
    queries: set[str] = field(default_factory=set)
    html_gzip: int | None = None
    own_js: int | None = None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def page_weight(base: str, target: Target, body: bytes, script_sizes: dict[str, int]) -> None:
    target.html_gzip = len(gzip.compress(body, 9))
    total = 0
    for src in re.findall(rb'<script[^>]+src="([^"]+)"', body):
        url = urlparse(src.decode()).path
        if not url.startswith("/static/") or url.startswith(VENDOR_SCRIPTS):
            continue
        if url not in script_sizes:
            script_sizes[url] = len(fetch(base, url, {}).body)
        total += script_sizes[url]
    target.own_js = total


# --- Reporting ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(targets: list[Target], bare: list[float], load: tuple[tuple[float, ...], tuple[float, ...]]) -> bool:
    bare_median = statistics.median(bare) * 1000
    print(
        f"\nload average before {'/'.join(f'{v:.2f}' for v in load[0])}, "
        f"after {'/'.join(f'{v:.2f}' for v in load[1])}; {os.cpu_count()} cores"
    )
    print(f"bare view: median {bare_median:.2f} ms, p95 {percentile(bare, 0.95) * 1000:.2f} ms ({len(bare)} fetches)\n")
    columns = ("median", "p95", "queries", "ratio", "gzip KB", "own JS KB")
    print(f"{'who':<18} {'path':<28} " + " ".join(f"{name:>8}" for name in columns))
    missed = []
    for target in targets:
        median = statistics.median(target.times) * 1000
        ratio = median / bare_median
        queries = ",".join(sorted(target.queries)) or "-"
        gz = f"{target.html_gzip / 1024:.1f}" if target.html_gzip is not None else ""
        js = f"{target.own_js / 1024:.1f}" if target.own_js is not None else ""
        print(
            f"{target.who:<18} {target.path:<28} {median:>8.1f} {percentile(target.times, 0.95) * 1000:>8.1f} "
            f"{queries:>8} {ratio:>7.1f}x {gz:>8} {js:>8}"
        )
        limit = API_RATIO_TARGET if target.is_api else HTML_RATIO_TARGET
        if ratio > limit:
            missed.append(f"{target.who} {target.path} {ratio:.1f}x > {limit:.0f}x")
        if target.username == GRID_WORKER and not target.is_api:
            if target.html_gzip is not None and target.html_gzip > HTML_GZIP_TARGET:
                missed.append(f"{target.who} {target.path} HTML {target.html_gzip / 1024:.1f} KB gzipped > 30 KB")
            if target.own_js is not None and target.own_js > OWN_JS_TARGET:
                missed.append(f"{target.who} {target.path} own JavaScript {target.own_js / 1024:.1f} KB > 50 KB")
    print()
    if missed:
        print(f"TARGETS MISSED ({len(missed)}):")
        for line in missed:
            print(f"  {line}")
    else:
        print("TARGETS MET: HTML pages <= 8x, API lists <= 5x, grid worker's pages <= 30 KB gzipped and 50 KB own JS")
    return not missed


# --- The run -----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    env = portal_env(args)
    processes: list[subprocess.Popen[bytes]] = []
    logs = Path(env["VAR_DIR"])
    base = args.base_url or f"http://127.0.0.1:{args.port}"
    bare_base = args.bare_url or f"http://127.0.0.1:{args.port + 1}"
    try:
        if not args.base_url:
            if not args.no_setup:
                set_up_database(args, env)
            manage(env, "collectstatic", "--noinput", "-v0")
            command = gunicorn("shanglong.wsgi:application", args.port, args.workers)
            portal = start(command, env, ROOT, logs / "portal.log")
            processes.append(portal)
            wait_for(base, "/healthz", portal)
        if not args.bare_url:
            bare_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
            command = gunicorn("bare_wsgi:application", args.port + 1, args.workers)
            bare_server = start(command, bare_env, ROOT / "bench", logs / "bare.log")
            processes.append(bare_server)
            wait_for(bare_base, "/", bare_server)

        targets: list[Target] = []
        script_sizes: dict[str, int] = {}
        for username, who, paths in LOGINS:
            if args.only and username not in args.only:
                continue
            cookies, landing = log_in(base, username)
            for path in [landing, *paths]:
                if args.path and not any(part in path for part in args.path):
                    continue
                target = Target(username, who, path, cookies)
                first = fetch(base, path, cookies)
                if first.status != 200:
                    sys.exit(f"{who} {path} answered {first.status}")
                if not target.is_api:
                    page_weight(base, target, first.body, script_sizes)
                targets.append(target)

        for _warm_up in range(3):
            for target in targets:
                fetch(bare_base, "/", {})
                fetch(base, target.path, target.cookies)
        load_before = os.getloadavg()
        bare: list[float] = []
        order = list(targets)
        shuffle = random.Random(args.seed)
        for round_number in range(args.requests):
            shuffle.shuffle(order)
            for target in order:
                bare.append(fetch(bare_base, "/", {}).seconds)
                answer = fetch(base, target.path, target.cookies)
                if answer.status != 200:
                    sys.exit(f"{target.who} {target.path} answered {answer.status} in round {round_number}")
                target.times.append(answer.seconds)
                target.queries.add(answer.headers.get("X-Query-Count", "?"))
            if (round_number + 1) % 50 == 0:
                print(f"  {round_number + 1} rounds of {len(order)} paths", file=sys.stderr)
        met = report(targets, bare, (load_before, os.getloadavg()))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
