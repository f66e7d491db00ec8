"""Load what a first chat turn would otherwise wait for: the intent, critic, question-type, escalation, dialogue-act
and language models, the labelled utterances' vectors, the embedder, and each tenant's knowledge index. Called by the
Functions warm-up trigger (and by the local host at start)."""

from __future__ import annotations

import gc
import logging
import time

from core.agents import critic_model, dialogue_act, escalation_model, intent, labelled_neighbours, question_type
from core.language import detect
from core.rag.retrieval import KnowledgeSearch
from core.stores.ports import DocumentStore
from core.tenants import list_tenants

log = logging.getLogger("shopdesk.warmup")


def _freeze_heap() -> None:
    gc.collect()
    gc.freeze()


def warm(store: DocumentStore, knowledge: KnowledgeSearch) -> dict[str, float]:
    timings: dict[str, float] = {}

    def step(name: str, action) -> None:
        started = time.perf_counter()
        try:
            action()
        except Exception as exc:  # warming is best effort: the first request will retry and report properly
            log.warning("warm-up step %s failed: %s", name, type(exc).__name__)
        timings[name] = round(time.perf_counter() - started, 3)

    step("intent_model", lambda: intent.classify("where is my order?"))
    step("critic_model", lambda: critic_model.screen("where is my order?"))
    step("escalation_model", lambda: escalation_model.reason("where is my order?"))
    step("language_model", lambda: detect("bonjour, où est ma commande?"))
    step("question_type_model", lambda: question_type.classify("where is my order?"))
    step("dialogue_act_model", lambda: dialogue_act.classify("yes, go ahead"))
    step("labelled_vectors", labelled_neighbours.load)
    for tenant in list_tenants(store):
        step(f"knowledge:{tenant.id}", lambda t=tenant.id: knowledge.search(t, "shipping", 1))
    # The models and indexes just loaded are millions of long-lived objects: left to the cyclic collector, every
    # full collection walks them all (about 115 ms measured on the local host, a stalled chat turn every ~150).
    # Frozen, they are skipped; reference counting still frees whatever of them is dropped later.
    step("gc_freeze", _freeze_heap)
    log.info("warm-up done %s", timings)
    return timings
