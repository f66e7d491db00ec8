"""Retrieval evaluation: ``python -m tests.evals.rag`` (or ``make eval-rag``).

Reads ``knowledge/eval/retrieval/*.jsonl`` (one query a line: ``tenant``, ``lang``, ``kind`` direct | paraphrase |
typo | none, ``query``, ``expected`` doc ids, empty for questions the KB cannot answer) and ``tenants.json`` (tenant
id -> folder). Each tenant is imported into a throw-away store and index, then every query is searched and the
command prints recall@1/@3, MRR and the no-answer figures by language, kind and tenant. A hit counts when its
document or the document it translates is expected (a French question answered by the French translation of an
expected English article counts).

``--calibrate`` prints the KNOWLEDGE_MIN_SCORE that best separates answerable from unanswerable questions.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.config import REPO_ROOT, get_settings

EVAL_DIR = REPO_ROOT / "knowledge" / "eval" / "retrieval"


@dataclass
class Outcome:
    tenant: str
    lang: str
    kind: str
    query: str
    expected: list[str]
    rank: int | None  # 1-based rank of the first expected group, None when absent from the top 10
    top_score: float
    top_doc: str | None
    same_language: bool | None  # the cited translation is in the asker's language, when the group has one


@dataclass
class Totals:
    answerable: int = 0
    r1: int = 0
    r3: int = 0
    rr: float = 0.0
    answered_r3: int = 0  # expected doc in the top 3 *and* above the threshold
    unanswerable: int = 0
    no_match_on_unanswerable: int = 0
    no_match_on_answerable: int = 0
    language_checks: list[bool] = field(default_factory=list)

    def add(self, outcome: Outcome, threshold: float) -> None:
        no_match = outcome.top_score < threshold
        if outcome.expected:
            self.answerable += 1
            self.r1 += outcome.rank == 1
            self.r3 += outcome.rank is not None and outcome.rank <= 3
            self.rr += 1 / outcome.rank if outcome.rank else 0.0
            self.answered_r3 += outcome.rank is not None and outcome.rank <= 3 and not no_match
            self.no_match_on_answerable += no_match
            if outcome.same_language is not None:
                self.language_checks.append(outcome.same_language)
        else:
            self.unanswerable += 1
            self.no_match_on_unanswerable += no_match

    def row(self, name: str) -> str:
        def pct(n: int | float, d: int) -> str:
            return f"{n / d:.3f}" if d else "  -  "

        flagged = self.no_match_on_unanswerable + self.no_match_on_answerable
        lang_ok = sum(self.language_checks)
        return (f"{name:<16}{self.answerable:>5} {pct(self.r1, self.answerable):>6} {pct(self.r3, self.answerable):>6} "
                f"{pct(self.rr, self.answerable):>6} {pct(self.answered_r3, self.answerable):>8} "
                f"{self.unanswerable:>5} {pct(self.no_match_on_unanswerable, self.unanswerable):>8} "
                f"{pct(self.no_match_on_unanswerable, flagged):>8} {pct(lang_ok, len(self.language_checks)):>7}")


HEADER = (f"{'':<16}{'n':>5} {'R@1':>6} {'R@3':>6} {'MRR':>6} {'R@3>=t':>8} {'n_none':>5} {'none->NM':>8} "
          f"{'NM prec':>8} {'lang':>7}")


def load_queries(files: list[Path]) -> list[dict]:
    rows = []
    for path in files:
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row.setdefault("source", f"{path.name}:{line_no}")
                rows.append(row)
    return rows


def run(files: list[Path], tenants_file: Path, *, threshold: float | None = None, details: bool = False,
        calibrate: bool = False) -> dict[str, Totals]:
    from core.rag.factory import build_embedder
    from core.rag.ingest import load_seed_vectors
    from core.rag.retrieval import KnowledgeSearch
    from core.rag.vector_index import EmbeddedVectorIndex
    from core.stores.memory_store import MemoryDocumentStore
    from core.tenants import import_tenant

    settings = get_settings()
    threshold = settings.KNOWLEDGE_MIN_SCORE if threshold is None else threshold
    queries = load_queries(files)
    folders = {t: REPO_ROOT / f for t, f in json.loads(tenants_file.read_text(encoding="utf-8")).items()}
    store = MemoryDocumentStore()
    embedder = build_embedder(settings)  # the embedding cache under DATA_DIR makes re-runs fast
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        index = EmbeddedVectorIndex(Path(tmp))
        search = KnowledgeSearch(store, settings, embedder=embedder, index=index)
        groups: dict[str, dict[str, str]] = {}
        for tenant in sorted({q["tenant"] for q in queries}):
            started = time.perf_counter()
            import_tenant(tenant, folders[tenant], store, index=False)
            load_seed_vectors(folders[tenant], embedder)  # prebuilt vectors, when the folder ships them
            report = search.sync(tenant)
            docs = search.kb_documents(tenant)
            groups[tenant] = {d.id: d.translation_of or d.id for d in docs}
            langs_per_group: dict[str, set[str]] = defaultdict(set)
            for d in docs:
                langs_per_group[d.translation_of or d.id].add(d.lang.split("-")[0])
            groups[tenant + "#langs"] = {g: ",".join(sorted(v)) for g, v in langs_per_group.items()}
            print(f"indexed {tenant}: {len(docs)} documents, {report.chunks_indexed} chunks "
                  f"({report.passages_embedded} embedded, rest cached) in {time.perf_counter() - started:.1f}s")

        outcomes: list[Outcome] = []
        latencies = []
        for q in queries:
            started = time.perf_counter()
            hits = search.search(q["tenant"], q["query"], k=10, lang=q["lang"])
            latencies.append(time.perf_counter() - started)
            group_of = groups[q["tenant"]]
            expected = {group_of.get(e, e) for e in q["expected"]}
            rank = next((i for i, h in enumerate(hits, 1) if group_of.get(h.doc_id, h.doc_id) in expected), None)
            same_language = None
            if rank is not None:
                hit = hits[rank - 1]
                available = groups[q["tenant"] + "#langs"].get(group_of.get(hit.doc_id, hit.doc_id), "")
                asked = q["lang"].split("-")[0]
                if asked in available.split(","):
                    same_language = hit.lang.split("-")[0] == asked
            outcomes.append(Outcome(q["tenant"], q["lang"], q["kind"], q["query"], q["expected"], rank,
                                    hits[0].score if hits else 0.0, hits[0].doc_id if hits else None,
                                    same_language))

    if details:
        for o in outcomes:
            ok = ("NONE" if o.top_score < threshold else "ans ") if not o.expected else (
                f"r={o.rank}" if o.rank else "MISS")
            if not o.expected and o.top_score < threshold or o.expected and o.rank == 1 and o.top_score >= threshold:
                continue
            print(f"{ok:<5} {o.top_score:.3f} {o.tenant}/{o.lang}/{o.kind}: {o.query!r} -> {o.top_doc} "
                  f"(expected {o.expected})")

    buckets: dict[str, Totals] = defaultdict(Totals)
    for o in outcomes:
        for name in ("overall", f"lang {o.lang}", f"kind {o.kind}", f"tenant {o.tenant}"):
            buckets[name].add(o, threshold)
    print(f"\nthreshold KNOWLEDGE_MIN_SCORE = {threshold}  ({len(outcomes)} queries; R@3>=t: expected doc in "
          f"the top 3 and above the threshold; none->NM: unanswerable queries given 'no good match'; NM prec: "
          f"share of 'no good match' answers that were right; lang: cited translation in the asker's language)")
    print(HEADER)
    for name in sorted(buckets, key=lambda n: (n != "overall", n)):
        print(buckets[name].row(name))
    ordered = sorted(latencies)
    print(f"\nsearch latency over {len(ordered)} queries: p50 {ordered[len(ordered) // 2] * 1000:.1f} ms, "
          f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms")
    if calibrate:
        print_calibration(outcomes)
    return dict(buckets)


def print_calibration(outcomes: list[Outcome]) -> None:
    """Threshold on the top hit's score: maximise balanced accuracy between answerable questions that are kept
    and unanswerable ones that get "no good match"."""
    answerable = [o.top_score for o in outcomes if o.expected]
    unanswerable = [o.top_score for o in outcomes if not o.expected]
    best = None
    for step in range(0, 101):
        t = step / 100
        kept = sum(s >= t for s in answerable) / len(answerable)
        rejected = sum(s < t for s in unanswerable) / max(1, len(unanswerable))
        score = (kept + rejected) / 2
        if best is None or score > best[0] + 1e-9:
            best = (score, t, kept, rejected)
    assert best is not None
    print(f"\ncalibration: threshold {best[1]:.2f} keeps {best[2]:.1%} of answerable questions and gives "
          f"'no good match' to {best[3]:.1%} of unanswerable ones (balanced accuracy {best[0]:.3f})")
    for label, scores in (("answerable", answerable), ("unanswerable", unanswerable)):
        s = sorted(scores)
        print(f"  top score, {label:<12}: min {s[0]:.3f}  p10 {s[len(s) // 10]:.3f}  median {s[len(s) // 2]:.3f}  "
              f"p90 {s[int(len(s) * 0.9)]:.3f}  max {s[-1]:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.evals.rag", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="JSONL query files (default: all in the eval folder)")
    parser.add_argument("--tenants", type=Path, default=EVAL_DIR / "tenants.json")
    parser.add_argument("--threshold", type=float, default=None, help="default: KNOWLEDGE_MIN_SCORE")
    parser.add_argument("--details", action="store_true", help="print every miss and wrong no-answer call")
    parser.add_argument("--calibrate", action="store_true", help="suggest KNOWLEDGE_MIN_SCORE from this eval")
    args = parser.parse_args(argv)
    files = args.files or sorted(EVAL_DIR.glob("*.jsonl"))
    run(files, args.tenants, threshold=args.threshold, details=args.details, calibrate=args.calibrate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
