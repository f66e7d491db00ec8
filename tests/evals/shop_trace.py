"""The shop eval's questions answered in this process, with what each turn's knowledge step saw.

    python -m tests.evals.shop_trace tests/evals/shops/<tenant-id> [--all] [--json out.json]

Runs the chat turn's steps directly (memory store, no host, no Durable) on the shop's conversations and prints, for
each failed turn (``--all``: every turn), the intent, the reply and the retrieved documents before the relevance
threshold: the calibrated score, and the best answering unit's similarity to the question. Scores the replies as
``tests.evals.shops`` does, so its figures and this tool's agree up to the host's own behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _ports(data_dir: Path):
    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    from core.config import load_local_settings

    load_local_settings(REPO / "local.settings.sample.json")
    os.environ.update({"DOCUMENT_STORE": "memory", "EVENT_QUEUE": "memory", "DATA_DIR": str(data_dir),
                       "LOG_LEVEL": "WARNING"})
    from core.config import get_settings
    from core.services import build_services, set_services

    services = build_services(get_settings())
    set_services(services)
    return services


def _run_turn(ports, state) -> None:
    from core.turn import steps
    from core.turn.runner import run_activity

    for stage in steps.REPLY:
        for activity in [a for a in stage if a.due(state)]:
            if activity.prepare is not None:
                activity.prepare(state)
            activity.apply(state, run_activity(activity, activity.payload(state), ports) or {})


def trace_shop(shop_dir: Path, show_all: bool = False, data_dir: Path | None = None) -> list[dict]:
    import tempfile

    from core.agents.knowledge import cited_documents
    from core.models import CustomerRef, TurnInput
    from core.rag.answer_units import UNIT_VECTORS
    from core.tenants import import_tenant
    from core.turn.state import TurnState
    from tests.evals.shops import check_turn

    questions = json.loads((shop_dir.parent / f"{shop_dir.name}.questions.json").read_text(encoding="utf-8"))
    tenant = json.loads((shop_dir / "tenant.json").read_text(encoding="utf-8"))["id"]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="shop-trace-") as tmp:
        services = _ports(data_dir or Path(tmp))
        import_tenant(tenant, shop_dir, services.store, knowledge=services.knowledge)
        ports = services.turn_ports()
        search = services.knowledge
        embedder = search.embedder
        for conversation in questions["conversations"]:
            conversation_id = uuid.uuid4().hex
            customer = conversation.get("customer")
            ref = CustomerRef(id=str(customer["id"]) if customer.get("id") is not None else None,
                              email=customer.get("email"), name=customer.get("name")) if customer else None
            for index, turn in enumerate(conversation["turns"]):
                state = TurnState(turn=TurnInput(
                    tenant_id=tenant, conversation_id=conversation_id, turn_id=uuid.uuid4().hex,
                    message=turn["message"], customer=ref, trace_id=uuid.uuid4().hex,
                    received_at=datetime.now(UTC).isoformat(timespec="milliseconds")))
                _run_turn(ports, state)
                result = state.recorded.result.model_dump(mode="json") if state.recorded else {}
                problems = check_turn(turn.get("expect", {}), result)
                language = state.intent.language if state.intent else None
                hits = search.search(tenant, turn["message"], k=6, lang=language)
                query = embedder.embed_queries([turn["message"]])[0]
                texts = cited_documents(services.store, tenant, hits, limit=len(hits))  # type: ignore[arg-type]
                retrieved = []
                for hit in hits:
                    units, vectors = UNIT_VECTORS.get(embedder, texts.get(hit.doc_id) or hit.passage)
                    sims = vectors @ query if len(units) else []
                    best = int(sims.argmax()) if len(units) else -1
                    retrieved.append({"doc": hit.doc_id, "lang": hit.lang, "score": hit.score,
                                      "unit": float(sims[best]) if best >= 0 else 0.0,
                                      "unit_text": units[best].text[:120] if best >= 0 else ""})
                rows.append({
                    "shop": tenant, "conversation": conversation["id"], "lang": conversation.get("lang", "en"),
                    "turn": index + 1, "message": turn["message"], "problems": problems,
                    "intent": state.intent.label if state.intent else None, "language": language,
                    "citations": [c.doc_id for c in state.citations], "reply": result.get("reply", ""),
                    "escalated": bool((result.get("escalation") or {}).get("escalated")),
                    "retrieved": retrieved,
                })
                row = rows[-1]
                if problems or show_all:
                    print(f"{'FAIL' if problems else 'ok  '} {tenant} {row['conversation']} [{row['lang']}] "
                          f"turn {row['turn']} intent={row['intent']}/{language} {'; '.join(problems)}")
                    print(f"     Q: {row['message'][:160]}")
                    print(f"     R: {row['reply'][:160]}")
                    for r in retrieved:
                        print(f"       {r['score']:.3f} unit {r['unit']:.3f} {r['doc']} [{r['lang']}] "
                              f"{r['unit_text'][:90]!r}")
    return rows


def summary(rows: list[dict]) -> str:
    from collections import defaultdict

    turns: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for key in ((row["shop"], row["lang"]), (row["shop"], "all"), ("*", row["lang"]), ("*", "all")):
            turns[key][0] += not row["problems"]
            turns[key][1] += 1
    return "\n".join(f"{shop:<22} {lang:<6} {ok:>4}/{n}" for (shop, lang), (ok, n) in sorted(turns.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shops", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="print every turn, not only the failed ones")
    parser.add_argument("--json", type=Path, default=None, help="write every turn's trace to this file")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the embedding cache here between runs (default: a temporary folder)")
    args = parser.parse_args()
    shops = args.shops or sorted(p for p in (REPO / "tests/evals/shops").iterdir() if (p / "tenant.json").exists())
    rows: list[dict] = []
    for shop in shops:
        rows += trace_shop(shop.resolve(), args.all, args.data_dir)
    print(summary(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
