"""A demo office for today: staff, devices, bookings and a sheet of their QR codes."""

from __future__ import annotations

import json
import os
from datetime import datetime, time
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont

from shared import groups, roles
from shared.auth import create_device, create_staff
from shared.bookings import import_rows
from shared.core import Core
from shared.scan import sign_token

DEMO_STAFF = (
    ("petugas", "petugas123", roles.OFFICER),
    ("supervisor", "supervisor123", roles.SUPERVISOR),
    ("admin", "admin123", roles.ADMIN),
)
NAMES = ("Wayan Pratama", "Made Lestari", "Nyoman Sari", "Ketut Wijaya", "Putu Dewi",
         "Kadek Santoso", "Gede Kusuma", "Komang Ayu")
PRIORITY = {3: groups.ELDERLY, 11: groups.PREGNANT, 19: groups.SMALL_CHILD,
            27: groups.DISABILITY}


def demo_bookings(core: Core) -> list[dict[str, Any]]:
    office = core.config.default_office
    today = core.today(office)
    rows = []
    counter = 0
    for hour in range(office.opens.hour, office.last_checkin.hour):
        for index in range(1, 7):
            counter += 1
            rows.append({
                "code": f"DEMO-{hour:02d}-{index:02d}",
                "office": office.id,
                "date": today.isoformat(),
                "slot_start": f"{hour:02d}:00",
                "slot_end": f"{hour + 1:02d}:00",
                "service": "penggantian" if index % 3 == 0 else "paspor-baru",
                "priority_group": PRIORITY.get(counter, ""),
                "name": NAMES[counter % len(NAMES)],
            })
    return rows


DEMO_START = time(9, 30)
CLOCK_STATE = "demo-clock.json"


def demo_clock(core: Core, state_dir: Path | None = None) -> str:
    """An office-time moment for a demo outside office hours ('' when open now: real time).

    The first run of a day starts the demo at 09:30; later runs the same day continue the
    demo clock where it would be now (the moment and the real time it started are kept in
    `$GILIRAN_VAR/demo-clock.json`), so a restart never sends the office back to 09:30.
    Once that continued clock passes closing time, the next run starts at 09:30 again.
    """
    office = core.config.default_office
    now = core.local_now(office)
    if now.weekday() < 5 and office.opens <= now.time() <= office.last_checkin:
        return ""
    path = (state_dir or Path(os.environ.get("GILIRAN_VAR", "var"))) / CLOCK_STATE
    real_now = core.now()
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        office_start = datetime.fromisoformat(saved["office_start"])
        real_start = datetime.fromisoformat(saved["real_start"])
        same_day = saved.get("real_day") == now.date().isoformat()
    except (OSError, ValueError, KeyError, TypeError):
        same_day = False
    if same_day:
        continued = office_start + (real_now - real_start)
        if continued.date() == office_start.date() and continued.time() < office.closes:
            return continued.isoformat(timespec="minutes")
    start = datetime.combine(now.date(), DEMO_START)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"office_start": start.isoformat(),
                                    "real_start": real_now.isoformat(),
                                    "real_day": now.date().isoformat()}), encoding="utf-8")
    except OSError:
        pass  # a read-only var/: the demo still starts, it just cannot continue later
    return start.isoformat(timespec="minutes")


def seed(core: Core, base_url: str, sheet: Path) -> dict[str, Any]:
    office = core.config.default_office
    for username, password, role in DEMO_STAFF:
        create_staff(core, username, password, role, None)
    kiosk_code = create_device(core, roles.KIOSK, "kiosk-1", office.id)
    board_code = create_device(core, roles.DISPLAY, "board-1", office.id)
    rows = demo_bookings(core)
    summary = import_rows(core, enumerate(rows, start=1))
    sheet.parent.mkdir(parents=True, exist_ok=True)
    _qr_sheet(core, rows, sheet)
    urls = {
        "kiosk": f"{base_url}/enrol/kiosk-1/{kiosk_code}",
        "board": f"{base_url}/enrol/board-1/{board_code}",
        "counter": f"{base_url}/counter",
        "supervisor": f"{base_url}/counter/supervisor",
        "simulated_serial": f"{base_url}/sim/serial/",
        "day_report": f"{base_url}/reports/day",
        "skm": f"{base_url}/reports/skm",
        "plan": f"{base_url}/reports/plan",
        "phone_status": f"{base_url}/t/<token>",
        "api": f"{base_url}/api/v1/openapi.json",
    }
    lines = [
        f"Giliran demo: {office.name} ({office.id}), {core.today(office).isoformat()}",
        f"  bookings: {summary.created} created, {summary.updated} updated "
        f"(codes DEMO-08-01 … DEMO-{office.last_checkin.hour - 1:02d}-06)",
        f"  kiosk   (one-time enrolment link): {urls['kiosk']}",
        f"  board   (one-time enrolment link): {urls['board']}",
        f"  counter terminal: {urls['counter']}",
        f"  supervisor view:  {urls['supervisor']}",
        f"  day report, SKM, capacity plan: {urls['day_report']}, {urls['skm']}, "
        f"{urls['plan']}",
        f"  phone status of a ticket: {urls['phone_status']} (the QR on each ticket)",
        f"  API description: {urls['api']}",
        f"  simulated LED displays and call buttons: {urls['simulated_serial']}",
        "  logins: " + ", ".join(f"{u} / {p} ({r})" for u, p, r in DEMO_STAFF),
        f"  QR sheet to print or show to the camera: {sheet}",
    ]
    return {"urls": urls, "staff": DEMO_STAFF, "text": "\n".join(lines)}


def _qr_sheet(core: Core, rows: list[dict[str, Any]], path: Path) -> None:
    """A printable page per 12 bookings: signed QR, code and slot."""
    office = core.config.default_office
    pages: list[Image.Image] = []
    font = ImageFont.load_default(size=22)
    cell_w, cell_h, columns = 400, 470, 3
    for start in range(0, len(rows), 12):
        page = Image.new("RGB", (cell_w * columns, cell_h * 4), "white")
        draw = ImageDraw.Draw(page)
        for index, row in enumerate(rows[start:start + 12]):
            token = sign_token(row["code"], office.id, row["date"], row["slot_start"],
                               core.config.security.qr_hmac_key)
            image = qrcode.make(token, box_size=4, border=2).get_image().convert("RGB")
            image = image.resize((340, 340))
            x, y = (index % columns) * cell_w, (index // columns) * cell_h
            page.paste(image, (x + 30, y + 20))
            draw.text((x + 30, y + 370), row["code"], fill="black", font=font)
            draw.text((x + 30, y + 400), f"{row['slot_start']}-{row['slot_end']} "
                      f"{row['priority_group'] or ''}", fill="black", font=font)
        pages.append(page)
    if path.suffix.lower() == ".pdf":
        pages[0].save(path, save_all=True, append_images=pages[1:], resolution=150)
    else:
        pages[0].save(path)

