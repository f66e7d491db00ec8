"""The e2e suite on the vendors' adapters: with ``E2E_VENDORS=standins`` the shops' orders and catalogue are read
through the Shopify Admin adapter and escalation tickets pushed through the Zendesk adapter, both pointed at the
local stand-ins (``core/devhost/standins``) serving the same shops' files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

SETTING = "E2E_VENDORS"


def wanted() -> bool:
    return os.environ.get(SETTING, "").lower() == "standins"


def start(shops: dict[str, Path], copies: Path):
    """The running stand-ins for ``shops``, the app settings that point the host at them, and copies of the shop
    folders whose tenant.json sends their shop reads and tickets there."""
    from core.devhost.standins.serve import StandIns, integrations_block

    standins = StandIns(shops).start()
    folders = {}
    for tenant, folder in shops.items():
        copy = copies / tenant
        shutil.copytree(folder, copy)
        config = json.loads((copy / "tenant.json").read_text())
        config["integrations"] = {**config.get("integrations", {}), **integrations_block(tenant)}
        (copy / "tenant.json").write_text(json.dumps(config))
        folders[tenant] = copy
    settings = {"SHOP_DATA": "shopify", "TICKET_DESK": "zendesk", **standins.settings()}
    return standins, settings, folders


def desk_has(standins, tenant: str, ticket_id: str) -> bool:
    """Whether the escalation ticket ``ticket_id`` is in the tenant's Zendesk stand-in."""
    return any(t.get("external_id") == ticket_id for t in standins.desks[tenant].tickets.values())
