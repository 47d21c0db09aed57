"""Role codes have one home, shanglong.roles.Role: no other Python file of the apps writes one as
a string (a source scan), and shanglong.models.Role stays importable for old code and tests."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from shanglong.roles import Role

APPS = ("shanglong", "grids")
HOME = Path("shanglong") / "roles.py"
CODES = frozenset(Role.values)
# Codes that are nothing but role codes; the others ("staff", "merchant", "volunteer",
# "department") are also field names and demo usernames, and count as role codes where they are
# used as one: compared, put in a set, listed or keyed with another role code, or given as role=.
ONLY_ROLES = frozenset(code for code in CODES if "_" in code)


def _is_code(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CODES


def _role_keyword(node: ast.AST) -> bool:
    return isinstance(node, ast.keyword) and bool(node.arg) and (node.arg == "role" or node.arg.startswith("role__"))


def role_codes_in(source: str) -> list[tuple[int, str]]:
    """(line, code) of each role code written as a string literal and used as a role."""
    tree = ast.parse(source)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if not _is_code(node):
            continue
        parent = parents.get(node)
        used_as_role = node.value in ONLY_ROLES or isinstance(parent, ast.Compare) or _role_keyword(parent)
        if isinstance(parent, ast.List | ast.Tuple | ast.Set):
            siblings = sum(1 for element in parent.elts if _is_code(element))
            holder = parents.get(parent)
            used_as_role = used_as_role or isinstance(parent, ast.Set) or siblings > 1
            used_as_role = used_as_role or isinstance(holder, ast.Compare) or _role_keyword(holder)
        if isinstance(parent, ast.Dict) and node in parent.keys:
            used_as_role = used_as_role or sum(1 for key in parent.keys if key is not None and _is_code(key)) > 1
        if used_as_role:
            found.append((node.lineno, node.value))
    return sorted(found)


def test_the_scan_finds_role_codes_used_as_roles():
    written = """
STAFF = frozenset({"staff"})
if user.role == "merchant": pass
START = {"staff": "home", "volunteer": "home"}
users.filter(role__in=["department", "staff"])
make(role="volunteer")
PAGES["subdistrict_staff"] = "x"
fields = ["name", "department"]
users["staff"]
("staff", "李晓燕", Role.STAFF)
"""
    assert role_codes_in(written) == [
        (2, "staff"),
        (3, "merchant"),
        (4, "staff"),
        (4, "volunteer"),
        (5, "department"),
        (5, "staff"),
        (6, "volunteer"),
        (7, "subdistrict_staff"),
    ]


def test_no_app_code_writes_a_role_code_as_a_string():
    root = Path(settings.BASE_DIR)
    offenders = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            if relative == HOME or "migrations" in relative.parts:
                continue
            offenders += [f"{relative}:{line}: {code!r}" for line, code in role_codes_in(path.read_text())]
    assert offenders == [], "use shanglong.roles.Role instead of a string:\n" + "\n".join(offenders)


def test_role_keeps_its_old_import_path():
    from shanglong import models

    assert models.Role is Role
    assert Role.GRID_WORKER == "grid_worker"
