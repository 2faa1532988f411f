"""The hardware room's plug (shared.registry): `[[printers]]` and `[[serial]]`.

In every process it checks its sections, tells the core which printers exist (so
check-ins queue print jobs for them, wherever they land) and serves the ticket preview
image. Only the process that owns the devices starts them (`start`): it performs the
print jobs and drives the serial buses.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from hardware.checks import check_config as check_config
from hardware.printing import parse_printers, render_preview_png
from hardware.wiring import start_hardware, ticket_print
from shared import visits
from shared.core import Core
from shared.errors import Refusal

hardware_api = Blueprint("hardware", __name__, url_prefix="/api/v1")


@hardware_api.get("/t/<token>/ticket.png")
def ticket_preview(token: str) -> Response:
    """The printed ticket as an image, for the kiosk screen when the printer fails."""
    from flask import current_app

    if len(token) > 64:
        raise Refusal(404, "not_found", "No such ticket.")
    core: Core = current_app.extensions["giliran"]
    data = visits.get_ticket_by_token(core, token)
    png = render_preview_png(ticket_print(core, data), width_mm=80)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


def register(app: Flask, core: Core) -> None:
    core.printers = frozenset(p.id for p in parse_printers(core.config.printers))
    app.register_blueprint(hardware_api)


def start(app: Flask, core: Core) -> None:
    start_hardware(app, core)
