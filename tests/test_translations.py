"""Every text a person reads has an Indonesian translation in the catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("shared", "kiosk", "display", "counter", "hardware")
CALLS = {"Refusal": 2, "bilingual": 0, "RowError": 0}


def messages() -> set[str]:
    found: set[str] = set()
    for room in ROOMS:
        for path in (ROOT / room).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                # printed layouts call `out.bilingual(id_text, en_text)` with both languages
                # spelled out; only the catalogue function counts here
                name = func.id if isinstance(func, ast.Name) else ""
                index = CALLS.get(name)
                if index is not None and len(node.args) > index:
                    arg = node.args[index]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
        for path in (ROOT / room).rglob("*.html"):
            # t("…") in templates, and the bi("…") macros that wrap it
            found.update(m.group(1) for m in re.finditer(
                r'\b(?:t|bi)\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    return found


def test_every_message_is_translated() -> None:
    indonesian = catalogue("id")
    missing = sorted(m for m in messages() if m not in indonesian)
    assert not missing, "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    for source, translated in catalogue("id").items():
        assert set(re.findall(r"{(\w+)}", source)) == set(re.findall(r"{(\w+)}", translated)), \
            source
