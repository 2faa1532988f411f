"""docs/devices.md (issue 17, point 3 and 10) says what the code does: the Chromium flag
that lets the board speak, the sound check route, every printer URL kind, and a table with
every state /api/v1/health reports; the deployment guide covers host and public_url."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from flask import Flask

from hardware.printing.settings import PrinterKind
from hardware.printing.status import PrinterState

ROOT = Path(__file__).resolve().parents[2]
DEVICES = (ROOT / "docs" / "devices.md").read_text(encoding="utf-8")
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


def test_the_board_flag_is_documented_where_the_code_points() -> None:
    assert AUTOPLAY in DEVICES
    assert "docs/devices.md" in (ROOT / "display" / "soundcheck.py").read_text()
    assert "`--kiosk`" in DEVICES and "xset s off" in DEVICES  # kiosk mode, no blanking
    for topic in ("Scanner", "keyboard", "Printer", "autostart", "Restart=always"):
        assert topic in DEVICES, topic


def test_the_sound_check_route_in_the_docs_exists(core: object) -> None:
    from shared.app import create_app

    app: Flask = create_app(core=core)  # type: ignore[arg-type]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/api/v1/offices/<office>/sound-check" in rules
    assert "POST /api/v1/offices/<office>/sound-check" in DEVICES


def test_every_printer_url_kind_is_in_the_table() -> None:
    for kind in get_args(PrinterKind):
        assert re.search(rf"`{kind}://", DEVICES), kind


def test_every_health_state_is_in_the_table() -> None:
    table = DEVICES[DEVICES.index("## 5. Health"):]
    states = [*get_args(PrinterState), "up", "down", "ok", "not_responding", "connected",
              "disconnected", "unlocked", "locked", "stale"]
    worker = (ROOT / "hardware" / "serial" / "worker.py").read_text()
    assert '"not_responding"' in worker and '"ok"' in worker  # the serial states used
    for state in states:
        assert f"`{state}`" in table, state


def test_readme_links_the_device_guide_and_deployment_covers_addresses() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/devices.md" in readme
    deployment = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = deployment[deployment.index("`[server] host` and `public_url`"):]
    for needle in ("host = \"0.0.0.0\"", "GILIRAN_BIND", "public_url", "/t/<token>",
                   "127.0.0.1"):
        assert needle in section, needle


def test_the_voice_endpoints_in_the_docs_exist(core: object) -> None:
    from shared.app import create_app

    app: Flask = create_app(core=core)  # type: ignore[arg-type]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for route in ("/display/announce.wav", "/display/announce.json"):
        assert route in rules and f"GET {route}" in DEVICES
    assert "/display/announce/clips/<path:name>" in rules
    assert "GET /display/announce/clips/<token>.wav" in DEVICES


def test_reports_doc_covers_every_report_route_format_and_definition(core: object) -> None:
    from shared.app import create_app
    from shared.reports import planning, render, retention_settings, skm

    reports = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    app: Flask = create_app(core=core)  # type: ignore[arg-type]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/reports/") and not rule.rule.startswith("/reports/static"):
            assert f"`{rule.rule}" in reports, rule.rule
    for fmt in render.FORMATS:
        assert f"`{fmt}`" in reports, fmt
    for needle in ("office=", "with_names=1", "late_grace_minutes", "GET /api/v1/survey/",
                   "POST /api/v1/survey/", "YYYY-S1", "88.31", f"at least {planning.MIN_SERVICES}",
                   f"(default {retention_settings.DEFAULT_PERSONAL_DAYS})"):
        assert needle in reports, needle
    assert len(skm.ELEMENTS) == 9 and "U1…U9" in reports
    assert "docs/reports.md" in (ROOT / "README.md").read_text(encoding="utf-8")
