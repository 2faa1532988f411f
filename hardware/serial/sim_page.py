"""Development page for simulated serial buses: what each LED shows, and its buttons.

Staff only (officer, supervisor, admin: a session or a bearer token; anyone else is sent
to the login page or refused), and every POST from a browser session carries the
session's anti-forgery token (the page's forms do; a script sends `X-CSRF-Token`).
Register only in development (it presses counters' call buttons)::

    init_sim_page(app, manager.simulators)

GET  /sim/serial/                              the page
GET  /sim/serial/state.json                    every simulated bus and display
POST /sim/serial/<bus>/<address>/press         form or JSON {"key": "next"|"recall"}
POST /sim/serial/<bus>/answering               form or JSON {"on": true|false}
POST /sim/serial/<bus>/plugged                 form or JSON {"on": true|false}
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)

from shared import roles

from .codecs import KEYS
from .simulator import SimulatedBus

EXTENSION = "giliran_serial_simulators"
MANAGER_EXTENSION = "giliran_serial_sim"

sim_blueprint = Blueprint("serial_sim", __name__, url_prefix="/sim/serial")


def init_sim_page(app: Flask, simulators: Mapping[str, SimulatedBus]) -> None:
    """Make the simulators reachable from the page and register the blueprint."""
    app.extensions[EXTENSION] = simulators
    app.register_blueprint(sim_blueprint)


def _simulators() -> Mapping[str, SimulatedBus]:
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        # Also accept the manager itself under the key hardware/wiring.py uses, so the
        # page works whichever way the application registered it.
        found = current_app.extensions.get(MANAGER_EXTENSION)
    simulators = getattr(found, "simulators", found)
    return simulators if isinstance(simulators, Mapping) else {}


def _error(status: int, code: str, message_id: str, message_en: str) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": {"id": message_id, "en": message_en}}}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _done() -> Any:
    if _wants_json():
        return jsonify({"ok": True}), 202
    return redirect(url_for("serial_sim.page"), code=303)


def _field(name: str) -> Any:
    if request.is_json:
        body = request.get_json(silent=True)
        return body.get(name) if isinstance(body, dict) else None
    return request.form.get(name)


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "on"):
        return True
    if value in ("0", "false", "off"):
        return False
    return None


@sim_blueprint.before_request
def _staff_only() -> Any:
    from shared.web import current_principal

    principal = current_principal()
    if principal is None or principal.role not in roles.STAFF:
        if principal is None and request.method == "GET" and not _wants_json():
            return redirect(url_for("pages.login", next=request.path))
        if principal is None:
            return _error(401, "unauthorized", "Silakan masuk.", "Please log in.")
        return _error(403, "forbidden", "Anda tidak boleh melakukan ini.",
                      "You are not allowed to do this.")
    if request.method == "POST" and g.get("principal_source") != "bearer":
        sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
        expected = str(session.get("csrf", ""))
        if not sent or not expected or not secrets.compare_digest(sent, expected):
            return _error(400, "invalid_request", "Formulir kedaluwarsa. Silakan coba lagi.",
                          "The form expired. Please try again.")
    return None


@sim_blueprint.get("/state.json")
def state() -> Any:
    return jsonify({bus_id: sim.state() for bus_id, sim in _simulators().items()})


@sim_blueprint.post("/<bus_id>/<int:address>/press")
def press(bus_id: str, address: int) -> Any:
    simulator = _simulators().get(bus_id)
    if simulator is None or address not in simulator.addresses:
        return _error(404, "unknown_device", "Perangkat tidak dikenal.", "Unknown device.")
    key = _field("key")
    if key not in KEYS:
        return _error(400, "invalid_key", 'Tombol harus "next" atau "recall".',
                      'The key must be "next" or "recall".')
    simulator.press(address, key)
    return _done()


@sim_blueprint.post("/<bus_id>/answering")
def answering(bus_id: str) -> Any:
    simulator = _simulators().get(bus_id)
    if simulator is None:
        return _error(404, "unknown_bus", "Bus tidak dikenal.", "Unknown bus.")
    on = _flag(_field("on"))
    if on is None:
        return _error(400, "invalid_value", "Nilai on harus true atau false.",
                      "The value of on must be true or false.")
    simulator.answering = on
    return _done()


@sim_blueprint.post("/<bus_id>/plugged")
def plugged(bus_id: str) -> Any:
    simulator = _simulators().get(bus_id)
    if simulator is None:
        return _error(404, "unknown_bus", "Bus tidak dikenal.", "Unknown bus.")
    on = _flag(_field("on"))
    if on is None:
        return _error(400, "invalid_value", "Nilai on harus true atau false.",
                      "The value of on must be true or false.")
    if on:
        simulator.plug()
    else:
        simulator.unplug()
    return _done()


@sim_blueprint.get("/")
def page() -> Any:
    buses = {bus_id: sim.state() for bus_id, sim in _simulators().items()}
    return render_template_string(_PAGE, buses=buses)


_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulator Serial / Serial simulator — Giliran</title>
<style nonce="{{ g.get('csp_nonce', '') }}">
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #f4f4f4; }
  table { border-collapse: collapse; background: #fff; margin-bottom: 1rem; }
  th, td { border: 1px solid #ccc; padding: .4rem .8rem; text-align: left; }
  .led { font: bold 2rem monospace; color: #ff3b1f; background: #111; min-width: 6ch;
         display: inline-block; padding: .1rem .5rem; letter-spacing: .1em; }
  .blink { animation: blink 1s steps(2, start) infinite; }
  @keyframes blink { to { visibility: hidden; } }
  .en { color: #666; }
  form { display: inline; }
  button { padding: .4rem .8rem; margin-right: .3rem; }
</style>
</head>
<body>
<h1>Simulator Serial <span class="en">/ Serial simulator</span></h1>
{% if not buses %}
<p>Tidak ada bus simulasi (url = "sim://"). <span class="en">/ No simulated bus
(url = "sim://").</span></p>
{% endif %}
{% for bus_id, bus in buses.items() %}
<h2>{{ bus_id }} <small class="en">({{ bus.codec }},
  {% if bus.plugged %}kabel terpasang / cable plugged{% else %}kabel dicabut / cable
  unplugged{% endif %},
  {% if bus.answering %}perangkat menjawab / devices answer{% else %}perangkat diam /
  devices silent{% endif %})</small></h2>
<table>
<tr><th>Alamat <span class="en">/ Address</span></th><th>Loket <span class="en">/
Counter</span></th><th>Layar <span class="en">/ Display</span></th><th>Tombol <span
class="en">/ Buttons</span></th></tr>
{% for address, display in bus.displays.items() %}
<tr>
  <td>{{ address }}</td>
  <td>{{ display.counter }}</td>
  <td><span class="led{% if display.blink %} blink{% endif %}"
            data-bus="{{ bus_id }}" data-address="{{ address }}">{{ display.text or "\u00a0"
            }}</span></td>
  <td>
    <form method="post" action="{{ url_for('serial_sim.press', bus_id=bus_id,
      address=address|int) }}"><input type="hidden" name="key" value="next">
      <input type="hidden" name="csrf" value="{{ csrf_token() }}">
      <button type="submit">Panggil / Call</button></form>
    <form method="post" action="{{ url_for('serial_sim.press', bus_id=bus_id,
      address=address|int) }}"><input type="hidden" name="key" value="recall">
      <input type="hidden" name="csrf" value="{{ csrf_token() }}">
      <button type="submit">Ulang / Recall</button></form>
  </td>
</tr>
{% endfor %}
</table>
<form method="post" action="{{ url_for('serial_sim.plugged', bus_id=bus_id) }}">
  <input type="hidden" name="on" value="{{ 'false' if bus.plugged else 'true' }}">
  <input type="hidden" name="csrf" value="{{ csrf_token() }}">
  <button type="submit">{% if bus.plugged %}Cabut kabel / Unplug{% else %}Pasang kabel /
    Plug in{% endif %}</button></form>
<form method="post" action="{{ url_for('serial_sim.answering', bus_id=bus_id) }}">
  <input type="hidden" name="on" value="{{ 'false' if bus.answering else 'true' }}">
  <input type="hidden" name="csrf" value="{{ csrf_token() }}">
  <button type="submit">{% if bus.answering %}Matikan perangkat / Silence devices{% else
    %}Hidupkan perangkat / Wake devices{% endif %}</button></form>
{% endfor %}
<script nonce="{{ g.get('csp_nonce', '') }}">
  // Keeps the LED texts current without reloading (a reload would lose a click in flight).
  async function refresh() {
    try {
      const answer = await fetch("{{ url_for('serial_sim.state') }}");
      const buses = await answer.json();
      for (const led of document.querySelectorAll(".led")) {
        const bus = buses[led.dataset.bus];
        const display = bus && bus.displays[led.dataset.address];
        if (!display) continue;
        led.textContent = display.text || "\\u00a0";
        led.classList.toggle("blink", display.blink);
      }
    } catch (error) { /* the server restarting: try again on the next tick */ }
  }
  setInterval(refresh, 1000);
</script>
</body>
</html>
"""
