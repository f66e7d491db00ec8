"""Operator commands: ``python -m core.integrations outbox <tenant> [--kind ticket|email|event]``."""

from __future__ import annotations

import argparse
import json
import sys

from core.config import load_local_settings
from core.services import get_services

from .sandbox import list_outbox


def main(argv: list[str] | None = None) -> int:
    load_local_settings()
    parser = argparse.ArgumentParser(prog="python -m core.integrations")
    sub = parser.add_subparsers(dest="command", required=True)
    outbox = sub.add_parser("outbox", help="list what the sandboxes recorded (tickets, emails, analytics events)")
    outbox.add_argument("tenant_id")
    outbox.add_argument("--kind", choices=["ticket", "email", "event"])
    outbox.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    for record in list_outbox(get_services().store, args.tenant_id, args.kind, args.limit):
        print(json.dumps(record, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
