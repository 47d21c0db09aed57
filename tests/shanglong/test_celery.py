"""Celery with real workers: over Redis in production, over kombu's filesystem transport with an
embedded beat by default. The workers write into this test run's database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from shanglong.celery import app
from shanglong.models import Heartbeat
from shanglong.tasks import record_heartbeat_task

pytestmark = pytest.mark.django_db(transaction=True)

CELERY = Path(sys.executable).with_name("celery")
# Variables the settings read; a worker gets only those the test sets.
SETTINGS_VARIABLES = {
    "CELERY_TASK_ALWAYS_EAGER",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "HEARTBEAT_INTERVAL",
    "REDIS_URL",
    "SECRET_KEY",
    "SHANGLONG_TESTING",
    "VAR_DIR",
}


def worker_database_url() -> str:
    """The URL of the database this test run uses, for a worker to open."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    if connection.vendor == "postgresql":
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or "5432"
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        return f"postgres://{database['USER']}{password}@{host}:{port}/{database['NAME']}"
    pytest.fail(f"no worker URL for the {connection.vendor} database")


@contextlib.contextmanager
def worker(*args: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A real Celery worker process; stopped (and its embedded beat with it) however the test ends."""
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(CELERY), "-A", "shanglong", "worker", "--pool=solo", "-l", "WARNING", *args],
            env={**base, "DJANGO_SETTINGS_MODULE": "shanglong.settings", **env},
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the embedded beat goes with it
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group we started: the worker and its beat
            process.wait(timeout=10)


def wait_for_heartbeat(name: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> Heartbeat:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = Heartbeat.objects.filter(name=name).first()
        if beat is not None:
            return beat
        if process.poll() is not None:
            pytest.fail(f"the worker stopped (exit {process.returncode}):\n{log.read_text()}")
        time.sleep(0.25)
    pytest.fail(f"no heartbeat {name!r} within {timeout} s; worker log:\n{log.read_text()}")


@contextlib.contextmanager
def broker_of_this_process(url: str, queue: str) -> Iterator[None]:
    """Point this process's Celery app at `url`, sending to a queue only this test's worker reads
    (other test runs may share the Redis server)."""
    keys = ("broker_url", "broker_read_url", "broker_transport_options", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}

    def drop_connections() -> None:  # as Celery does after a fork
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    drop_connections()
    app.conf.update(
        broker_url=url,
        broker_read_url=None,
        broker_transport_options={"socket_connect_timeout": 2},
        task_default_queue=queue,
    )
    try:
        yield
    finally:
        drop_connections()
        app.conf.update(saved)


@pytest.mark.services
def test_a_real_worker_runs_a_task_enqueued_through_redis(redis_url, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    env = {"REDIS_URL": redis_url, "DATABASE_URL": worker_database_url(), "VAR_DIR": str(tmp_path)}
    with worker("-Q", queue, env=env, log=log) as process, broker_of_this_process(redis_url, queue):
        record_heartbeat_task.delay("ci-probe")
        beat = wait_for_heartbeat("ci-probe", process, log)
    assert beat.at is not None
    assert process.returncode is not None  # stopped


def test_the_embedded_default_runs_a_scheduled_job_with_no_server(tmp_path):
    log = tmp_path / "worker.log"
    env = {
        "REDIS_URL": "",
        "DATABASE_URL": worker_database_url(),
        "VAR_DIR": str(tmp_path),
        "HEARTBEAT_INTERVAL": "1",
    }
    with worker("-B", env=env, log=log) as process:
        beat = wait_for_heartbeat("beat", process, log)
    assert beat.at is not None
    assert process.returncode is not None
    # The broker folders and the beat schedule were private to this test.
    assert (tmp_path / "celery" / "queue").is_dir()
    assert any(path.name.startswith("celerybeat-schedule") for path in tmp_path.iterdir())
