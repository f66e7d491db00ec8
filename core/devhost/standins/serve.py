"""Both stand-ins on one loopback port, for the shops of a few tenant folders, and the configuration that points a
tenant's integrations at them (``python -m core.devhost.standins`` prints it; tests serve them in a thread).

Tenant ``t`` is the shop ``t.myshopify.com`` under ``/shopify`` and the Zendesk account ``t`` under ``/zendesk``;
its Admin and API tokens are local values named like the production secrets (``SHOPIFY_ADMIN_TOKEN_T``...)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from . import shopify_admin, zendesk_support


def _setting_suffix(tenant_id: str) -> str:
    return tenant_id.upper().replace("-", "_")


def integrations_block(tenant_id: str) -> dict[str, str]:
    """The tenant.json ``integrations`` block that sends the tenant's shop reads and tickets to the stand-ins."""
    return {"shop_data": "shopify", "shopify_domain": f"{tenant_id}.myshopify.com", "ticket_desk": "zendesk",
            "zendesk_subdomain": tenant_id, "zendesk_email": f"support@{tenant_id}.example"}


def app_settings(base_url: str, tenant_ids: list[str]) -> dict[str, str]:
    """The app settings that point the adapters at stand-ins served on ``base_url``, with each tenant's tokens."""
    settings = {"SHOPIFY_API_URL": f"{base_url}/shopify/{{domain}}/admin/api/{{version}}/",
                "ZENDESK_API_URL": f"{base_url}/zendesk/{{subdomain}}/api/v2/"}
    for tenant_id in tenant_ids:
        settings[f"SHOPIFY_ADMIN_TOKEN_{_setting_suffix(tenant_id)}"] = f"local-shopify-token-{tenant_id}"
        settings[f"ZENDESK_API_TOKEN_{_setting_suffix(tenant_id)}"] = f"local-zendesk-token-{tenant_id}"
    return settings


class StandIns:
    """The stand-ins for ``tenants`` (tenant id -> its folder of exports). ``desks`` holds each tenant's tickets."""

    def __init__(self, tenants: dict[str, Path], *, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port or _free_port(host)
        self.base_url = f"http://{host}:{self.port}"
        self.shops = {f"{t}.myshopify.com": shopify_admin.Shop.from_folder(folder, f"local-shopify-token-{t}")
                      for t, folder in tenants.items()}
        self.desks = {t: zendesk_support.Desk(email=f"support@{t}.example", token=f"local-zendesk-token-{t}")
                      for t in tenants}
        self.app = Starlette(routes=[
            Mount("/shopify", app=shopify_admin.app(self.shops)),
            Mount("/zendesk", app=zendesk_support.app(self.desks, base_url=f"{self.base_url}/zendesk")),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def settings(self) -> dict[str, str]:
        return app_settings(self.base_url, sorted(self.desks))

    def start(self, timeout: float = 10.0) -> StandIns:
        config = uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="stand-ins", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the stand-ins did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> StandIns:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
