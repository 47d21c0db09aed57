"""The README's configuration tables and the code that reads the environment cannot drift apart:
every variable shanglong/settings.py reads is listed, and every variable listed is read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "shanglong" / "settings.py"
# Where the README's variables that the portal itself does not read are read.
OTHER_READERS = [ROOT / "run", ROOT / ".ci" / "run", ROOT / "tests" / "conftest.py"]
# settings.py's helpers whose first argument is the variable's name.
ENV_HELPERS = {"env_bool", "env_list"}


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def variables_read(source: str) -> set[str]:
    """Names read through os.environ.get/[]/os.getenv or the settings' env_* helpers."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        key: ast.AST | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (
                (isinstance(func, ast.Name) and func.id in ENV_HELPERS)
                or (isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr == "getenv"
                    and getattr(func.value, "id", None) == "os"
                )
            ):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def readme_variables() -> set[str]:
    """The backticked names in the first column of the tables under "Configuration"."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_column))
    return names


def test_every_variable_settings_reads_is_in_the_readme():
    read = variables_read(SETTINGS.read_text())
    # The scan finds what it must (SECURE_SSL_REDIRECT was once read and not documented).
    assert {"DATABASE_URL", "SECURE_SSL_REDIRECT", "EMAIL_USE_TLS", "MEDIA_S3_BUCKET", "VAR_DIR"} <= read
    missing = sorted(read - readme_variables())
    assert not missing, f"read in shanglong/settings.py but not in README.md's configuration table: {missing}"


def test_every_variable_in_the_readme_is_read_somewhere():
    sources = SETTINGS.read_text() + "".join(path.read_text() for path in OTHER_READERS if path.exists())
    stale = sorted(name for name in readme_variables() if not re.search(rf"\b{name}\b", sources))
    assert not stale, f"in README.md's configuration table but read nowhere: {stale}"
