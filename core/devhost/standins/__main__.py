"""``python -m core.devhost.standins [--port 8790] TENANT=FOLDER...``: serve the Shopify Admin and Zendesk stand-ins
for these shops, and print the app settings and tenant.json ``integrations`` blocks that point ShopDesk at them."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .serve import StandIns, integrations_block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.devhost.standins", description=__doc__)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("shops", nargs="+", metavar="TENANT=FOLDER", help="a tenant id and its folder of exports")
    args = parser.parse_args(argv)
    tenants = {}
    for item in args.shops:
        tenant, _, folder = item.partition("=")
        if not folder or not Path(folder).is_dir():
            parser.error(f"{item}: expected TENANT=FOLDER with an existing folder")
        tenants[tenant] = Path(folder)
    standins = StandIns(tenants, port=args.port).start()
    print("App settings (local.settings.json Values or the environment):")
    print(json.dumps(standins.settings(), indent=2))
    for tenant in tenants:
        print(f'tenant.json of {tenant}: "integrations": {json.dumps(integrations_block(tenant))}')
    print(f"serving on {standins.base_url} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standins.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
