"""HTTP routes for announcements (Flask blueprint `announce_blueprint`).

Register with the loaded config: `app.register_blueprint(announce_blueprint, config=config)`.
Without the `config` option the blueprint loads config.toml itself (GILIRAN_CONFIG) on the
first request.

`GET /display/announce.wav?number=B012&counter=3[&station=berkas][&office=DPS]`
    The whole call as one WAV file (mono 16-bit PCM, 22050 Hz): chime, the Indonesian
    sentence, then the English one when `[announce] english = true`. `office` defaults to
    the first configured office, `station` to the counter's first station (it must be one
    the counter serves). Public, like the board.

`GET /display/announce.json?...` (same parameters)
    `{"tokens": [...], "urls": [...], "text": {"id": ..., "en": ...}, "repeat": n}`: what a
    board's player needs to speak the call itself.

`GET /display/announce/clips/<token>.wav`
    One clip: the office's recording from `[announce] clips_dir` when it has one, the
    shipped clip otherwise. Boards of an office with its own recordings fetch clips here.

Bad input answers 400 `{"error": {"code": "invalid_request", "message": {"id", "en"}}}`;
an unknown clip 404 (`not_found`); a clip missing or unreadable on the server 503
(`audio_unavailable`). Nothing a client sends produces a 500.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from flask.blueprints import BlueprintSetupState

from display.announce.calls import CallAnnouncement, CallError, call_announcement, settings_for
from display.announce.clips import clip_path, is_token
from display.announce.render import ClipError, render_wav
from display.announce.settings import AnnounceSettings
from shared.config import Config, ConfigError, load_config

log = logging.getLogger(__name__)

EXTENSION = "giliran_announce"
CACHE_SECONDS = 3600

announce_blueprint = Blueprint("announce", __name__)


@dataclass
class _State:
    config: Config | None = None
    settings: AnnounceSettings | None = None


@announce_blueprint.record_once
def _remember_config(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = _State(config=state.options.get("config"))


def _state() -> tuple[Config, AnnounceSettings]:
    """The configuration in force and its `[announce]` settings. In the product that is
    the core's live configuration (a counter the admin added, a changed `[announce]`), not
    the one the blueprint was registered with."""
    state = current_app.extensions.setdefault(EXTENSION, _State())
    core = current_app.extensions.get("giliran")
    live = getattr(core, "config", None)
    if isinstance(live, Config) and live is not state.config:
        state.config, state.settings = live, None
    if state.config is None:
        state.config = load_config()
    if state.settings is None:
        state.settings = settings_for(state.config)
    return state.config, state.settings


def _error(status: int, code: str, message_id: str, message_en: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": {"id": message_id, "en": message_en}}}), (
        status
    )


def _settings_error(exc: ConfigError) -> tuple[Response, int]:
    log.error("announce: %s", exc)
    return _error(
        503, "audio_unavailable",
        "Pengaturan suara panggilan salah; hubungi petugas TI.",
        "The announcement settings are wrong; contact IT staff.",
    )


def _call() -> CallAnnouncement | tuple[Response, int]:
    """The call named by the query string, or the error answer to send."""
    for name in ("number", "counter"):
        if not request.args.get(name, "").strip():
            return _error(
                400, "invalid_request",
                f"Parameter {name} wajib diisi.", f"The {name} parameter is required.",
            )
    try:
        config, settings = _state()
    except ConfigError as exc:
        return _settings_error(exc)
    try:
        return call_announcement(
            config,
            settings,
            number=request.args["number"],
            counter_id=request.args["counter"].strip(),
            station_id=request.args.get("station", "").strip() or None,
            office_id=request.args.get("office", "").strip() or None,
        )
    except CallError as exc:
        return _error(400, "invalid_request", exc.message["id"], exc.message["en"])


@announce_blueprint.get("/display/announce.wav")
def announce_wav() -> Any:
    call = _call()
    if not isinstance(call, CallAnnouncement):
        return call
    _, settings = _state()
    try:
        data = render_wav(call.announcement.tokens, settings.clips_dir)
    except ClipError as exc:
        log.error("announce: %s", exc)
        return _error(
            503, "audio_unavailable",
            "Rekaman suara panggilan tidak tersedia; hubungi petugas TI.",
            "An announcement recording is missing; contact IT staff.",
        )
    response = Response(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@announce_blueprint.get("/display/announce.json")
def announce_json() -> Any:
    call = _call()
    if not isinstance(call, CallAnnouncement):
        return call
    announcement = call.announcement
    return jsonify({
        "tokens": list(announcement.tokens),
        "urls": list(call.urls),
        "text": {"id": announcement.text_id, "en": announcement.text_en},
        "repeat": call.repeat,
    })


@announce_blueprint.get("/display/announce/clips/<path:name>")
def announce_clip(name: str) -> Any:
    token = name.removesuffix(".wav")
    if not name.endswith(".wav") or not is_token(token):
        return _error(
            404, "not_found", "Rekaman tidak ditemukan.", "No such recording.",
        )
    try:
        _, settings = _state()
    except ConfigError as exc:
        return _settings_error(exc)
    path = clip_path(token, settings.clips_dir)
    if path is None:
        return _error(404, "not_found", "Rekaman tidak ditemukan.", "No such recording.")
    return send_file(path, mimetype="audio/wav", max_age=CACHE_SECONDS)
