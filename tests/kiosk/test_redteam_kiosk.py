"""The kiosk's server side under input nobody meant to send: what a client puts in the
QR route's `data` never makes the server fail (a 5xx would say the database is away)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.kiosk.test_kiosk_views import app, client  # noqa: F401  (fixtures)


@pytest.mark.parametrize("data", [
    "http://[::1/t/abcdef",              # an unclosed IPv6 bracket: urlsplit raises
    "http://[zz]/t/abcdef",              # not an IPv6 address in brackets
    "http://localhost\uff03x/t/abcdef",  # a netloc that NFKC normalisation changes
])
def test_qr_route_refuses_an_address_python_cannot_split(client: FlaskClient,  # noqa: F811
                                                          data: str) -> None:
    answer = client.get("/kiosk/qr.svg", query_string={"data": data})
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json is not None and answer.json["error"]["code"] == "invalid_request"
    assert answer.json["error"]["message"]["id"] != answer.json["error"]["message"]["en"]
