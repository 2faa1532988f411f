"""Fuzz the REST API from its OpenAPI description: no answer is ever a 500 (or a 503 with
the database up), and every answer fits the description."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from shared.app import create_app
from shared.auth import create_staff
from shared.bookings import import_rows
from shared.core import Core
from shared.openapi import SPEC, openapi
from tests.conftest import booking_row


def openapi_app(core: Core) -> Flask:
    app = create_app(core=core)
    if "openapi" not in app.blueprints:
        app.register_blueprint(openapi)
    app.testing = True
    return app


@pytest.fixture
def staff_token(core: Core) -> str:
    token = create_staff(core, "fuzz-admin", "pw", "admin", token=True)
    assert token
    return token


OPERATIONS = [(method.upper(), path) for path, item in SPEC["paths"].items()
              for method in item]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_never_fails_on_generated_requests(core: Core, staff_token: str, method: str,
                                               path: str) -> None:
    """25 generated requests per operation, with an admin's token (pytest 9 cannot use
    schemathesis' own pytest loader, so the operation's Hypothesis strategy is used)."""
    import_rows(core, enumerate([booking_row("FUZZ-00001"), booking_row("FUZZ-00002")],
                                start=1))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", openapi_app(core))
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {staff_token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=headers,
                               checks=[not_a_server_error, status_code_conformance,
                                       response_schema_conformance])

    fuzz()


def test_every_api_route_is_described(core: Core) -> None:
    app = openapi_app(core)
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("api.", "admin_api.")):
            path = rule.rule[len("/api/v1"):]
            for converter in ("int:", "string:", "path:"):
                path = path.replace(f"<{converter}", "<")
            routes.add(path.replace("<", "{").replace(">", "}"))
    assert routes <= set(SPEC["paths"]), routes - set(SPEC["paths"])
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json()["openapi"].startswith("3.")
