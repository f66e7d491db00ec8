"""``python -m core.devhost``: run function_app.py locally on http://127.0.0.1:7071 without Core Tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from core.config import load_local_settings

from .host import LocalHost
from .workers import WorkerSlot, run_supervisor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.devhost", description=__doc__)
    parser.add_argument("--app-dir", default=".", help="folder holding function_app.py and host.json")
    parser.add_argument("--module", default="function_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--settings", default="local.settings.json", help="Core Tools style settings file")
    parser.add_argument("--no-timers", action="store_true", help="do not run timer triggers on their schedules")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: the FUNCTIONS_WORKER_PROCESS_COUNT setting, else 1)")
    parser.add_argument("--worker-slot", help=argparse.SUPPRESS)  # <index>/<count>, given by the supervisor
    parser.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDKs log every HTTP request at INFO
    app_dir = Path(args.app_dir)
    settings = Path(args.settings)
    if not settings.is_absolute():
        settings = app_dir / settings
    slot = WorkerSlot.parse(args.worker_slot, args.listen_fd) if args.worker_slot else None
    if slot is None:
        load_local_settings(settings)
        workers = args.workers if args.workers is not None else int(os.environ.get("FUNCTIONS_WORKER_PROCESS_COUNT")
                                                                    or 1)
        if workers > 1:
            worker_argv = ["--app-dir", str(app_dir), "--module", args.module, "--host", args.host, "--port",
                           str(args.port), "--settings", str(settings), *(["--no-timers"] if args.no_timers else [])]
            return run_supervisor(workers, args.host, args.port, worker_argv)
    host = LocalHost(app_dir=app_dir, module=args.module, host=args.host, port=args.port, settings_file=settings,
                     run_timers=not args.no_timers, slot=slot)
    try:
        asyncio.run(host.serve())
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # start-up errors (settings, indexing) are reported as one clear line
        print(f"devhost: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
