"""Language detection eval: ``python -m tests.evals.language`` (``make eval-language``).

Prints the accuracy of ``core.language.detect`` per language on every labelled utterance of ``knowledge/intents``
(the classifier is trained on its ``train`` split, so the ``test`` split and the blind set are the fair figures),
on the blind set, and on short messages (greetings, thanks, yes / no), then its time per call.
"""

from __future__ import annotations

import time
from collections import defaultdict

from core.language import detect
from core.utterances import BLIND_DIR, load_examples

_BASE = {"en": "en", "fr-CA": "fr", "fr": "fr", "es": "es"}
SHORT_MESSAGES = [("Hello!", "en"), ("Hi", "en"), ("thanks", "en"), ("ok", "en"), ("yes please", "en"),
                  ("merci", "fr"), ("bonjour", "fr"), ("oui", "fr"), ("gracias", "es"), ("hola", "es"), ("si", "es")]


def accuracy(pairs: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """{language: (right, total)} over (text, expected language) pairs, with "all"."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for text, expected in pairs:
        right = detect(text)[0] == expected
        for key in ("all", expected):
            counts[key][0] += right
            counts[key][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def _labelled(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["text"], _BASE[r["lang"]]) for r in rows if r.get("lang") in _BASE]


def main() -> int:
    everything = load_examples()
    sets = [("every utterance in knowledge/intents", _labelled(everything)),
            ("held-out test split", _labelled([r for r in everything if r.get("split") == "test"])),
            ("short messages", SHORT_MESSAGES)]
    if BLIND_DIR.is_dir():
        sets.insert(2, ("blind set (knowledge/eval/intent-blind)", _labelled(load_examples(folder=BLIND_DIR))))
    detect("warm up")
    for title, pairs in sets:
        print(f"{title}\n{'language':<8} {'n':>5} {'accuracy':>9}")
        for language, (right, total) in accuracy(pairs).items():
            print(f"{language:<8} {total:>5} {right / total:>9.4f}")
    wrong = [(text, detect(text)[0]) for text, expected in SHORT_MESSAGES if detect(text)[0] != expected]
    if wrong:
        print("short messages detected wrongly: " + ", ".join(f"{t!r} -> {got}" for t, got in wrong))
    texts = [text for text, _ in sets[0][1][:2000]]
    timings = []
    for text in texts:
        started = time.perf_counter()
        detect.__wrapped__(text)  # the classifier itself, not the per-process cache
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(f"per call over {len(timings)} utterances: p50 {timings[len(timings) // 2] * 1e3:.2f} ms, "
          f"p95 {timings[int(len(timings) * 0.95)] * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
