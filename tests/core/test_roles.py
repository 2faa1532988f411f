"""Roles and priority groups are spelled in one place each (shared/roles.py,
shared/groups.py): every other product module reads the names from there."""

from __future__ import annotations

import ast
from pathlib import Path

from shared import groups, roles
from shared.openapi import SPEC
from tests.conftest import ROOT

PRODUCT = ("shared", "kiosk", "display", "counter", "hardware")
ROLE_NAMES = set(roles.ACCOUNT_ROLES) | set(roles.DEVICE_KINDS)
# Calls whose string arguments name roles: access checks and the CLI's choices.
ROLE_CALLS = {"require", "Choice", "create_staff", "create_device"}


def _strings(node: ast.AST) -> list[str]:
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [item.value for item in items
            if isinstance(item, ast.Constant) and isinstance(item.value, str)]


def _role_spellings(path: Path) -> list[tuple[int, str]]:
    """Role names a module compares with, passes to an access check, or lists (two or more
    role names in one tuple, list or set literal)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        values: list[str] = []
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                values += _strings(operand)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                node.func.id if isinstance(node.func, ast.Name) else ""
            if name in ROLE_CALLS:
                for arg in node.args:
                    values += _strings(arg)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            listed = [v for v in _strings(node) if v in ROLE_NAMES]
            values += listed if len(listed) >= 2 else []
        found += [(node.lineno, v) for v in values if v in ROLE_NAMES]
    return found


def _product_modules(skip: Path) -> list[Path]:
    return [path for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))
            if path != skip and "static" not in path.parts]


def test_no_module_but_roles_spells_a_role() -> None:
    offenders = sorted({f"{path.relative_to(ROOT)}:{line}: {value!r}"
                        for path in _product_modules(ROOT / "shared" / "roles.py")
                        for line, value in _role_spellings(path)})
    assert not offenders, ("read the role from shared.roles instead of spelling it:\n  "
                           + "\n  ".join(offenders))


def test_the_scan_finds_a_spelled_role(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('STAFF = ("officer", "supervisor")\n'
                      'def f(p):\n    require(p, "admin")\n    return p.role == "kiosk"\n')
    assert sorted(v for _, v in _role_spellings(module)) == ["admin", "kiosk", "officer",
                                                             "supervisor"]


def test_the_api_description_lists_the_roles_and_groups() -> None:
    paths = SPEC["paths"]
    staff_body = paths["/staff"]["post"]["requestBody"]["content"]["application/json"]
    assert staff_body["schema"]["properties"]["role"]["enum"] == list(roles.ACCOUNT_ROLES)
    booking = SPEC["components"]["schemas"]["Booking"]["properties"]["priority_group"]
    assert booking["enum"] == ["", *groups.PRIORITY_GROUPS]


def test_no_module_but_groups_spells_a_priority_group() -> None:
    offenders = []
    for path in _product_modules(ROOT / "shared" / "groups.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in groups.PRIORITY_GROUPS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not offenders, ("read the group from shared.groups instead of spelling it:\n  "
                           + "\n  ".join(offenders))


def test_no_template_compares_with_a_spelled_role() -> None:
    """Templates read `roles` (a Jinja global of shared.roles) instead of spelling one."""
    import re

    names = "|".join(ROLE_NAMES)
    pattern = re.compile(rf"""(==|!=)\s*["']({names})["']|<option value=["']({names})["']""")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for package in PRODUCT for path in sorted((ROOT / package).rglob("*.html"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert not offenders, "use roles.<NAME> in the template:\n  " + "\n  ".join(offenders)
