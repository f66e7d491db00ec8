"""The real function app served in process: the local host's Starlette front end and a Durable engine on SQLite,
for tests that speak HTTP to it without a socket (the services are whatever container is installed)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from core.devhost.durable import AppInvoker, DurableEngine, DurableHttpApi, DurableStore, SystemClock
from core.devhost.durable.transport import install_in_process_transport, uninstall_in_process_transport
from core.devhost.functions import FunctionSpec, index_functions
from core.devhost.http import HttpFrontEnd

HUB = "ApiTestsHub"


def function_key() -> str:
    """The key the host expects on FUNCTION routes (LOCAL_FUNCTION_KEY, from the sample settings in tests)."""
    key = os.environ.get("LOCAL_FUNCTION_KEY", "")
    assert key, "LOCAL_FUNCTION_KEY is not set"
    return key


# The engine's API is reached in process only; this base keeps it apart from other hubs of the test session.
RPC_BASE = "http://127.0.0.1:9/api-tests/runtime/webhooks/durabletask/"


def http_routes(specs: list[FunctionSpec]) -> set[tuple[str, str]]:
    """(METHOD, "/route/template") of every HTTP function."""
    return {(method, "/" + spec.route.template) for spec in specs if spec.route is not None
            for method in spec.methods}


def build_asgi_app(functions: list, store: DurableStore):
    """The Starlette app. Its lifespan runs a Durable engine on ``store``; an ASGI client may end and restart the
    lifespan (schemathesis does so around each test), so each start builds a fresh engine on the same store."""
    specs = index_functions(functions)
    current: dict[str, DurableHttpApi] = {}

    def binding() -> str:
        return current["api"].binding_json()

    for spec in specs:
        if spec.durable_client_param:
            spec.extra["durable_client_binding"] = binding
    front = HttpFrontEnd(specs, route_prefix="api", durable_client_binding=binding,
                         durable_api=lambda *args: current["api"].handle(*args))

    @asynccontextmanager
    async def lifespan(_app):
        engine = DurableEngine(store, AppInvoker(functions), SystemClock(), task_hub=HUB)
        api = current["api"] = DurableHttpApi(engine, rpc_base_url=RPC_BASE, public_base_url=RPC_BASE, task_hub=HUB)
        install_in_process_transport(api)
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()
            uninstall_in_process_transport(api)

    front.app.router.lifespan_context = lifespan
    front.app.state.specs = specs
    return front.app
