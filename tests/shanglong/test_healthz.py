"""/healthz: 200 while the database answers, the broker reported but not required, and quick
answers when a service hangs or is gone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_redis_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers, like a hung Redis."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_until_stopped() -> None:
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            accepted.append(connection)  # held open, never read or written

    thread = threading.Thread(target=accept_until_stopped, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
        for connection in accepted:
            connection.close()


def test_healthz_reports_database_ok(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert {"broker", "scheduler"} <= body.keys()


def test_healthz_needs_no_login_and_no_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert client.get(reverse("login")).status_code == 301  # other pages do go to https


def test_healthz_answers_quickly_when_redis_hangs(client, settings, silent_redis_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_redis_port}/0"
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"/healthz took {elapsed:.1f} s with a hung broker"
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["kind"] == "redis"
    assert body["broker"]["error"] == "TimeoutError"  # it connected, and waited in vain for an answer


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    code = (
        "import json, time, django; django.setup()\n"
        "from django.test import Client\n"
        "started = time.monotonic()\n"
        "response = Client().get('/healthz', HTTP_HOST='localhost')\n"
        "elapsed = time.monotonic() - started\n"
        "print(json.dumps({'status': response.status_code, 'type': response['Content-Type'],"
        " 'body': response.content.decode(), 'elapsed': elapsed}))\n"
    )
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="shanglong.settings",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        VAR_DIR=str(tmp_path),
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["elapsed"] < 3, f"/healthz took {report['elapsed']:.1f} s with the database gone"
    assert time.monotonic() - started < 30
    assert report["status"] == 503
    assert report["type"] == "application/json"
    body = json.loads(report["body"])
    assert body["status"] == "down"
    assert body["database"]["ok"] is False
    assert body["scheduler"]["ok"] is False
