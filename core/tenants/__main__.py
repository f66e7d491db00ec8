"""Onboard shops from their files: ``python -m core.tenants import <tenant> <folder> | import-all [--dir] | list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import load_local_settings
from core.services import get_services
from core.tenants import TenantImportError, import_tenant, list_tenants


def main(argv: list[str] | None = None) -> int:
    load_local_settings()
    parser = argparse.ArgumentParser(prog="python -m core.tenants", description="Onboard shops from their files.")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("import", help="import one tenant from a folder")
    one.add_argument("tenant_id")
    one.add_argument("folder")
    every = sub.add_parser("import-all", help="import every sub-folder of KNOWLEDGE_DIR (folder name = tenant id)")
    every.add_argument("--dir", default=None)
    sub.add_parser("list", help="list imported tenants")
    args = parser.parse_args(argv)
    services = get_services()
    store, knowledge = services.store, services.knowledge
    try:
        if args.command == "import":
            print(import_tenant(args.tenant_id, args.folder, store, knowledge=knowledge).model_dump_json())
        elif args.command == "import-all":
            base = Path(args.dir) if args.dir else services.settings.KNOWLEDGE_DIR
            for sub_folder in sorted(p for p in base.iterdir() if p.is_dir()):
                print(import_tenant(sub_folder.name, sub_folder, store, knowledge=knowledge).model_dump_json())
        else:
            for tenant in list_tenants(store):
                print(tenant.model_dump_json())
    except TenantImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
