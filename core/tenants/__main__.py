"""Onboard shops from their files: ``python -m core.tenants import <tenant> <folder or .zip> [--dry-run] |
import-all [--dir] [--dry-run] | list``.

Each import prints its report as one JSON line (stdout); its warnings and the embedding progress go to stderr.
The import endpoint (``POST /api/operator/tenants/{tenant}/import``) runs the same code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import load_local_settings
from core.services import get_services
from core.tenants import ImportReport, TenantImportError, import_tenant, list_tenants
from core.tenants.onboarding import import_upload, unpack_zip


def _progress(tenant_id: str):
    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{tenant_id}: embedding knowledge {done}/{total} documents", end=end, file=sys.stderr, flush=True)

    return show


def _import(tenant_id: str, source: Path, services, dry_run: bool) -> ImportReport:
    store, knowledge = services.store, services.knowledge
    if source.is_file() and source.suffix.lower() == ".zip":
        data = source.read_bytes()
        return import_upload(tenant_id, lambda folder: unpack_zip(data, folder), store, knowledge=knowledge,
                             dry_run=dry_run)
    return import_tenant(tenant_id, source, store, knowledge=knowledge, dry_run=dry_run,
                         progress=_progress(tenant_id))


def _print(report: ImportReport) -> None:
    for warning in report.warnings:
        print(f"warning: {report.tenant_id}: {warning}", file=sys.stderr)
    print(report.model_dump_json(), flush=True)


def main(argv: list[str] | None = None) -> int:
    load_local_settings()
    parser = argparse.ArgumentParser(prog="python -m core.tenants", description="Onboard shops from their files.")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("import", help="import one tenant from a folder or a zip of it")
    one.add_argument("tenant_id")
    one.add_argument("folder")
    one.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    every = sub.add_parser("import-all", help="import every sub-folder of KNOWLEDGE_DIR (folder name = tenant id)")
    every.add_argument("--dir", default=None)
    every.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    sub.add_parser("list", help="list imported tenants")
    args = parser.parse_args(argv)
    services = get_services()
    try:
        if args.command == "import":
            _print(_import(args.tenant_id, Path(args.folder), services, args.dry_run))
        elif args.command == "import-all":
            base = Path(args.dir) if args.dir else services.settings.KNOWLEDGE_DIR
            for sub_folder in sorted(p for p in base.iterdir() if p.is_dir()):
                _print(_import(sub_folder.name, sub_folder, services, args.dry_run))
        else:
            for tenant in list_tenants(services.store):
                print(tenant.model_dump_json())
    except TenantImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
