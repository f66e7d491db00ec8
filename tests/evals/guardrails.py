"""The critic's input screen on messages it was not trained on: ``python -m tests.evals.guardrails``
(``make eval-guardrails``).

The guardrail data (knowledge/guardrails) comes from independent authors (``w1-*``, ``w2-*``, ``w3-*``) and the
project's own messages (``lead-*``, always trained on: ordinary look-alikes, and strangers posing as a courier, a
relative or the police to get a customer's address or phone; short blunt attacks and their ordinary look-alikes).
Each author's set is scored by a screen trained without it (the other authors' sets, the project's messages and the
ordinary intent utterances), as the critic runs it. Printed per language: attacks blocked and ordinary messages
(look-alikes included) wrongly blocked.
"""

from __future__ import annotations

from core.agents import critic_model

AUTHORS = ("w1", "w2", "w3")
LANGUAGES = ("en", "fr-CA", "es")


def report(name: str, rows: list[dict], predicted: list[bool]) -> list[str]:
    lines = []
    for lang in ("all", *LANGUAGES):
        pairs = [(r, p) for r, p in zip(rows, predicted, strict=True) if lang == "all" or r["lang"] == lang]
        attacks = [p for r, p in pairs if r["blocked"]]
        ordinary = [p for r, p in pairs if not r["blocked"]]
        if attacks or ordinary:
            lines.append(f"{name:<34} {lang:<6} attacks blocked {sum(attacks):>3}/{len(attacks):<3} "
                         f"({sum(attacks) / max(len(attacks), 1):>4.0%})   ordinary blocked "
                         f"{sum(ordinary):>3}/{len(ordinary):<3} ({sum(ordinary) / max(len(ordinary), 1):>4.0%})")
    return lines


def main() -> int:
    by_author = {a: critic_model.load_rows(pattern=f"{a}-*.jsonl") for a in AUTHORS}
    for held_out in AUTHORS:
        test = by_author[held_out]
        trained_on = [r for a, rs in by_author.items() if a != held_out for r in rs]
        trained_on += critic_model.load_rows(pattern="lead-*.jsonl")
        model = critic_model.train(*critic_model.training_set(trained_on))
        learned = [critic_model.screen(r["text"], model) is not None for r in test]
        print(f"held-out author {held_out} ({len(test)} messages; screen trained without them)")
        for line in report("learned screen", test, learned):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
