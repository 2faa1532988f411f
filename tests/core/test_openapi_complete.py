"""Every /api/v1 route of every blueprint (the reports' SKM survey, the board's sound
check, the display's board JSON...) is in the OpenAPI description, not only those of
shared/api.py and shared/admin_api.py (issue 17, point 10)."""

from __future__ import annotations

from shared.app import create_app
from shared.core import Core
from shared.openapi import SPEC


def test_every_api_v1_route_is_described(core: Core) -> None:
    app = create_app(core=core)
    missing = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule[len("/api/v1"):]
        for converter in ("int:", "string:", "path:"):
            path = path.replace(f"<{converter}", "<")
        path = path.replace("<", "{").replace(">", "}")
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        described = SPEC["paths"].get(path, {})
        missing |= {f"{m.upper()} {path}" for m in methods if m not in described}
    assert not missing, sorted(missing)
