"""Settings: a loud failure without production values, a clean deploy check with them, and
JSON-lines logs when DEBUG is off. Each case starts a fresh Python, since settings are read once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

# Variables the settings read (and the one tests/conftest.py sets for the browser tests); a
# subprocess starts from none of them, then gets what the test sets.
SETTINGS_VARIABLES = (
    "ALLOWED_HOSTS",
    "CELERY_TASK_ALWAYS_EAGER",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
    "EMAIL_BACKEND",
    "FIELD_ENCRYPTION_KEY",
    "FIELD_HASH_KEY",
    "HEARTBEAT_INTERVAL",
    "LOG_LEVEL",
    "MEDIA_S3_BUCKET",
    "REDIS_URL",
    "SECRET_KEY",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SHANGLONG_TESTING",
    "VAR_DIR",
)


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        env={**base, "DJANGO_SETTINGS_MODULE": "shanglong.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": secrets.token_hex(16),
        "FIELD_HASH_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "portal.example.org",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shanglong.sqlite3'}",
    }


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off(tmp_path):
    result = run_python("import django; django.setup()", {"DEBUG": "0", "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_refuse_to_start_without_field_keys_when_debug_is_off(tmp_path):
    env = production_env(tmp_path)
    del env["FIELD_HASH_KEY"]
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY must be set" in result.stderr


def test_deploy_check_is_clean_with_production_variables(tmp_path):
    result = run_python("", production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_logs_are_json_lines_when_debug_is_off(tmp_path):
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('shanglong.probe').warning('probe %s', 'json', extra={'community': 't-shanglong'})"
    )
    result = run_python(code, production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, "nothing was logged to stdout"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    probe = next(entry for entry in entries if entry["logger"] == "shanglong.probe")
    assert probe["message"] == "probe json"
    assert probe["level"] == "WARNING"
    assert probe["community"] == "t-shanglong"
    assert "time" in probe


@pytest.mark.parametrize("debug", ["1", ""])
def test_logs_are_plain_text_in_development(tmp_path, debug):
    code = "import django, logging; django.setup(); logging.getLogger('shanglong.probe').warning('probe plain')"
    result = run_python(code, {"DEBUG": debug, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "probe plain" in line)
    assert not line.startswith("{")
    assert "WARNING shanglong.probe probe plain" in line
