"""The announce routes: WAV, JSON, clips, and refusals that are never a 500."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from display.announce.blueprint import announce_blueprint
from display.announce.clips import SHIPPED_CLIPS_DIR
from display.announce.render import wav_duration
from shared.config import parse_config

CONFIG_TOML = Path(__file__).resolve().parents[2] / "config.toml"


def make_client(announce_table: str = "", clips_dir: Path | None = None) -> FlaskClient:
    text = CONFIG_TOML.read_text(encoding="utf-8")
    text = text.split("\n[announce]")[0]  # replace the shipped table with the test's
    table = announce_table
    if clips_dir is not None:
        table += f'\nclips_dir = "{clips_dir}"'
    if table:
        text += f"\n[announce]\n{table}\n"
    app = Flask(__name__)
    app.register_blueprint(announce_blueprint, config=parse_config(text, str(CONFIG_TOML)))
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    return make_client()


def query(**params: str) -> str:
    return urlencode(params)


def test_wav(client: FlaskClient) -> None:
    answer = client.get(f"/display/announce.wav?{query(number='B012', counter='3', office='DPS')}")
    assert answer.status_code == 200
    assert answer.mimetype == "audio/wav"
    assert answer.data[:4] == b"RIFF"
    assert 4 < wav_duration(answer.data) < 15


def test_json(client: FlaskClient) -> None:
    answer = client.get(
        f"/display/announce.json?{query(number='c007', counter='W2', station='wawancara')}"
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["text"] == {
        "id": "Nomor antrean C007, silakan menuju ruang wawancara 2.",
        "en": "Number C007, please go to interview room 2.",
    }
    assert body["urls"][0] == "/display/static/audio/chime.wav"
    assert "/display/static/audio/id/ruang-wawancara.wav" in body["urls"]
    assert body["repeat"] == 1
    assert len(body["urls"]) == len(body["tokens"])


def test_settings_shape_the_call() -> None:
    client = make_client('numbers = "words"\nenglish = false\nrepeat = 2')
    body = client.get(f"/display/announce.json?{query(number='B012', counter='3')}").get_json()
    assert body["tokens"] == [
        "chime", "id/nomor-antrian", "id/letter-b", "id/dua", "id/belas",
        "id/silakan-menuju", "id/loket", "id/tiga",
    ]
    assert body["text"]["en"] is None
    assert body["repeat"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"number": "B012"},
        {"counter": "3"},
        {"number": " ", "counter": "3"},
        {"number": "B012", "counter": "99"},
        {"number": "B012", "counter": "3", "office": "JKT"},
        {"number": "B012", "counter": "W1", "station": "berkas"},
        {"number": "B012", "counter": "3", "station": "dapur"},
        {"number": "B-012", "counter": "3"},
        {"number": "<script>", "counter": "3"},
        {"number": "B" * 5000, "counter": "3"},
        {"number": "B012", "counter": "../../etc"},
    ],
)
@pytest.mark.parametrize("ext", ["wav", "json"])
def test_bad_input_is_a_bilingual_400(
    client: FlaskClient, params: dict[str, str], ext: str
) -> None:
    answer = client.get(f"/display/announce.{ext}?{urlencode(params)}")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"]["id"] and error["message"]["en"]
    assert error["message"]["id"] != error["message"]["en"]


def test_clip_route_serves_shipped_and_office_clips(tmp_path: Path) -> None:
    client = make_client()
    shipped = client.get("/display/announce/clips/id/loket.wav")
    assert shipped.status_code == 200
    assert shipped.data == (SHIPPED_CLIPS_DIR / "id" / "loket.wav").read_bytes()

    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "loket.wav").write_bytes((SHIPPED_CLIPS_DIR / "id" / "dua.wav").read_bytes())
    office = make_client(clips_dir=tmp_path)
    assert office.get("/display/announce/clips/id/loket.wav").data == (
        SHIPPED_CLIPS_DIR / "id" / "dua.wav"
    ).read_bytes()
    body = office.get(f"/display/announce.json?{query(number='B1', counter='1')}").get_json()
    assert body["urls"][0] == "/display/announce/clips/chime.wav"


@pytest.mark.parametrize(
    "path", ["id/tidak-ada.wav", "id/loket.mp3", "../config.toml", "id/..%2F..%2Fx.wav"]
)
def test_unknown_clip_is_404(client: FlaskClient, path: str) -> None:
    answer = client.get(f"/display/announce/clips/{path}")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


def test_missing_recording_is_503_not_500(tmp_path: Path) -> None:
    text = CONFIG_TOML.read_text(encoding="utf-8").replace(
        'spoken = "ruang foto"', 'spoken = "ruang potret"'
    )
    app = Flask(__name__)
    app.register_blueprint(announce_blueprint, config=parse_config(text))
    answer = app.test_client().get(
        f"/display/announce.wav?{query(number='B012', counter='F1')}"
    )
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "audio_unavailable"
