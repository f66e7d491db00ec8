"""Onboard a shop into a running function app through its import endpoint: zips the tenant folder and POSTs it to
``/api/operator/tenants/<tenant>/import`` (``azd``'s post-deploy hook runs it for the demo shop).

The app's URL and function key come from the options, else from the azd environment (``SERVICE_API_URI``) and
``SHOPDESK_FUNCTION_KEY``, else from ``az functionapp keys list`` for ``AZURE_FUNCTION_APP_NAME`` in
``AZURE_RESOURCE_GROUP``. The tenant defaults to the azd environment's shop (``SHOPDESK_TENANT``, else demo) and its
folder to ``knowledge/tenants/<tenant>``. Prints the import report; its warnings go to stderr."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx


def zip_folder(folder: Path) -> bytes:
    """The tenant folder as the import endpoint takes it (tenant.json at the top; hidden folders kept: .vectors)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _function_key() -> str:
    if os.environ.get("SHOPDESK_FUNCTION_KEY"):
        return os.environ["SHOPDESK_FUNCTION_KEY"]
    app, group = os.environ.get("AZURE_FUNCTION_APP_NAME"), os.environ.get("AZURE_RESOURCE_GROUP")
    if not (app and group):
        raise SystemExit("no function key: set SHOPDESK_FUNCTION_KEY or the azd environment")
    done = subprocess.run(["az", "functionapp", "keys", "list", "-g", group, "-n", app, "--query",
                           "functionKeys.default", "-o", "tsv"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def onboard(base_url: str, key: str, tenant: str, folder: Path, *, dry_run: bool = False, attempts: int = 10,
            wait_seconds: float = 15.0) -> dict:
    """POST the folder; retries while the app is still starting (connection errors, 5xx). Returns the report."""
    url = f"{base_url.rstrip('/')}/api/operator/tenants/{tenant}/import"
    body = zip_folder(folder)
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(url, content=body, params={"dry_run": str(dry_run).lower()}, timeout=300,
                                  headers={"content-type": "application/zip", "x-functions-key": key})
        except httpx.TransportError as exc:
            failure = type(exc).__name__
        else:
            if response.status_code < 500:
                if response.status_code >= 400:
                    raise SystemExit(f"import refused ({response.status_code}): {response.text[:2000]}")
                return response.json()
            failure = f"HTTP {response.status_code}"
        if attempt < attempts:
            print(f"{tenant}: the app is not ready ({failure}); retrying in {wait_seconds:.0f} s", file=sys.stderr)
            time.sleep(wait_seconds)
    raise SystemExit(f"{tenant}: import failed after {attempts} attempts ({failure})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.deploy.onboard", description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default=os.environ.get("SHOPDESK_TENANT") or "demo")
    parser.add_argument("--folder", default=None, help="default knowledge/tenants/<tenant>")
    parser.add_argument("--url", default=os.environ.get("SERVICE_API_URI", ""))
    parser.add_argument("--key", default=None)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--skip-missing", action="store_true",
                        help="no folder for the tenant: say so and succeed (a shop onboarded later by hand)")
    args = parser.parse_args(argv)
    folder = Path(args.folder) if args.folder else Path("knowledge/tenants") / args.tenant
    if not (folder / "tenant.json").is_file():
        message = (f"{args.tenant}: no tenant folder at {folder}; "
                   "onboard the shop with python -m core.deploy.onboard --folder")
        if args.skip_missing:
            print(message, file=sys.stderr)
            return 0
        raise SystemExit(message)
    if not args.url:
        raise SystemExit("no app URL: pass --url or set SERVICE_API_URI (azd sets it after provisioning)")
    report = onboard(args.url, args.key or _function_key(), args.tenant, folder, dry_run=args.dry_run)
    for warning in report.get("warnings", []):
        print(f"warning: {args.tenant}: {warning}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
