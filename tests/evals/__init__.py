"""Evaluation harnesses: each scores a part of the product on the labelled sets under knowledge/eval and
knowledge/intents and prints its figures (``make eval-intent``, ``make eval-rag``, ``make eval-pii``)."""
