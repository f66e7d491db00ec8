"""Schemathesis over every operation of the OpenAPI description, against the app in process: no 5xx, every status,
content type and documented header as described, every body matching its schema, invalid input refused with a
4xx, missing required headers and unlisted methods refused, function keys enforced.

Bounded and deterministic: a fixed seed, derandomized generation, a few examples per operation (plus the coverage
phase's boundary cases), no example database. The description is the one the app serves
(test_openapi_description checks that the served document is this one)."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from core.openapi import build_openapi

from .inprocess import function_key

# The app runs on schemathesis' event-loop thread; whatever it draws from `random` there while Hypothesis generates
# a case is no use of `random` inside a strategy.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

CONFIG = SchemathesisConfig.from_dict({
    "seed": 20261121,
    # A chat turn is answered within the app's own wait; a busy machine must not turn a slow answer into a failure.
    "request-timeout": 120,
    "generation": {"max-examples": 10, "deterministic": True, "database": "none", "mode": "all"},
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
    "checks": {
        # A schema cannot say every rule a valid request meets (ends_at after starts_at, a schedule croniter
        # accepts, an ISO time Python parses), so a schema-valid body may rightly get a 422.
        "positive_data_acceptance": {"enabled": False},
        # Needs two identities of one shop; tenancy has its own tests (tests/unit/test_auth_tenancy.py).
        "object_level_authorization": {"enabled": False},
    },
    # Mostly real shops, so requests reach the handlers past the tenant check; sometimes a generated id.
    "dictionaries": {"tenants": {"values": ["demo", "northwind-tea"]}},
    "parameters": {"path.tenant": {"dictionary": "tenants", "probability": 0.9}},
    "auth": {"openapi": {"functionKey": {"api_key": function_key()}}},
})


class DeferredApp:
    """The ASGI app the cases are sent to; the package fixture builds the real one when the tests run."""

    target = None

    async def __call__(self, scope, receive, send):
        assert self.target is not None, "the api_app fixture did not run"
        await self.target(scope, receive, send)


APP = DeferredApp()
schema = schemathesis.openapi.from_dict(build_openapi(), config=CONFIG)
schema.app = APP


@pytest.fixture(autouse=True)
def _serve(api_app):
    APP.target = api_app


@schema.parametrize()
def test_every_operation_conforms(case):
    case.call_and_validate()
