"""`./run start` as a developer uses it: the address only once the portal answers, one portal per
var/ folder and per port, and web, worker and beat stopped together, whichever way it ends.

The script runs for real in a subprocess, on a free port, with its own VAR_DIR (so its own SQLite
database, media, Celery folders and lock) and neither the developer's database nor CI's
PostgreSQL and Redis. Each run gets a session of its own, so its processes are its process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Generous: setup (migrate + demo data) on a loaded two-core machine.
READY_TIMEOUT = 240
REFUSAL_TIMEOUT = 30

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_env(var_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "DATABASE_URL", "CELERY_"))}
    env.update(
        VAR_DIR=str(var_dir),
        PORT=str(port),
        DEBUG="1",
        START_TIMEOUT=str(READY_TIMEOUT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def group_processes(pgid: int) -> dict[int, str]:
    """The live processes of a process group, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def components(pgid: int) -> dict[str, int]:
    """How many web servers, workers and beats the group runs."""
    commands = group_processes(pgid).values()
    return {
        "web": sum("manage.py runserver" in c for c in commands),
        "worker": sum("celery" in c and " worker" in c for c in commands),
        "beat": sum("celery" in c and " beat" in c for c in commands),
    }


def wait_until_gone(pgid: int, timeout: float = 30) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while (left := group_processes(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


class Run:
    """One `./run start` in its own session, its output collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "run"), "start"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.reader.join(timeout=5)
                pytest.fail(f"`./run start` never said {text!r}; its output:\n{self.output[-6000:]}")
            time.sleep(0.2)

    def finish(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`./run start` did not end within {timeout} s; its output:\n{self.output[-6000:]}")
        self.reader.join(timeout=5)
        return code

    def kill_all(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """One var/ folder for the module's runs, one after the other: only the first sets up the
    database from nothing; the later ones find it migrated and seeded."""
    return tmp_path_factory.mktemp("run-start") / "var"


@pytest.fixture
def runs():
    started: list[Run] = []

    def start(env: dict[str, str]) -> Run:
        run = Run(env)
        started.append(run)
        return run

    yield start
    for run in started:  # whatever a failed assertion left behind
        run.kill_all()


def healthz(port: int) -> tuple[int, dict]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        return response.status, json.loads(response.read())


def assert_refused(run: Run, message: str) -> None:
    started = time.monotonic()
    code = run.finish(timeout=REFUSAL_TIMEOUT)
    assert code != 0, run.output
    assert message in run.output, run.output
    assert time.monotonic() - started < REFUSAL_TIMEOUT
    assert "Migrating" not in run.output, "the refused run set up the database"
    assert not wait_until_gone(run.process.pid, timeout=5), "the refused run left processes"


def test_run_start_refuses_a_second_copy_and_stops_together(tmp_path, var_dir, runs):
    port = free_port()
    env = run_env(var_dir, port)

    first = runs(env)
    first.wait_for("The portal is running at", timeout=READY_TIMEOUT)
    # The address is printed only once the portal answers.
    status, body = healthz(port)
    assert status == 200
    assert body["database"]["ok"] is True
    assert (var_dir / "shanglong.sqlite3").exists()
    assert components(first.process.pid) == {"web": 1, "worker": 1, "beat": 1}

    # A second copy from the same folder, on the same port or another, starts nothing.
    assert_refused(runs(env), "already running")
    assert_refused(runs(run_env(var_dir, free_port())), "already running")
    # A copy from another folder on the busy port is refused before touching its database.
    other_var = tmp_path / "other-var"
    assert_refused(runs(run_env(other_var, port)), f"Port {port} on 127.0.0.1 is in use")
    assert not (other_var / "shanglong.sqlite3").exists()
    # Still exactly one of each, one beat above all.
    assert components(first.process.pid) == {"web": 1, "worker": 1, "beat": 1}

    # The worker dies: the command stops web and beat, says which one stopped, and fails.
    worker = next(pid for pid, c in group_processes(first.process.pid).items() if " worker" in c)
    os.kill(worker, signal.SIGKILL)
    assert first.finish(timeout=60) != 0
    assert "The Celery worker (exit status" in first.output
    assert not wait_until_gone(first.process.pid), "web or beat outlived the worker"


@pytest.mark.parametrize("how", ["ctrl-c", "term"])
def test_run_start_stops_everything_on_ctrl_c_or_term(var_dir, runs, how):
    port = free_port()
    run = runs(run_env(var_dir, port))
    run.wait_for("The portal is running at", timeout=READY_TIMEOUT)
    assert components(run.process.pid) == {"web": 1, "worker": 1, "beat": 1}

    if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground group
        os.killpg(run.process.pid, signal.SIGINT)
    else:  # `kill <pid>` from another terminal reaches the script alone
        os.kill(run.process.pid, signal.SIGTERM)
    assert run.finish(timeout=60) == 0, run.output
    assert not wait_until_gone(run.process.pid), "something outlived ./run start"
    # The port and the lock are free again.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
