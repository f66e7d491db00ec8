"""The learned detector of person names and street addresses (with their city, region and postal code lines).

A linear-chain CRF (python-crfsuite) over the word features of ``core.pii.ner_features``, trained at build time
(``make setup`` runs ``python -m core.pii.ner_train``) on ``knowledge/pii/ner-train.jsonl``, shipped in the package's
artifacts (or kept in DATA_DIR when trained at run time) under a fingerprint of its data, features and training
code, so a changed training set, feature set or tagging trains anew. A process without the file trains it on first
use (a few minutes). ``find_learned(text)`` returns PERSON and ADDRESS spans whose
words the model is confident about.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from core.agents import model_cache
from core.config import REPO_ROOT

from .ner_features import Token, features, tokenize
from .spans import Label, Span

log = logging.getLogger("shopdesk.pii")

TRAIN_FILE = REPO_ROOT / "knowledge" / "pii" / "ner-train.jsonl"
_TAGS = {"PER": Label.PERSON, "ADDR": Label.ADDRESS}
_OF_LABEL = {Label.PERSON: "PER", Label.ADDRESS: "ADDR"}
PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 250, "feature.possible_transitions": True}
MIN_CONFIDENCE = 0.6  # a span is kept when the model's mean marginal over its words reaches this
MIN_CONFIDENCE_PLAIN = 0.7  # … or this when none of its words starts with a capital or a digit

_lock = threading.Lock()
_tagger = None


def bio(tokens: list[Token], spans: list[list]) -> list[str]:
    """BIO tags of ``tokens`` from character spans ``[start, end, label]``: a word the span only partly covers
    ("Lisa's" for "Lisa") is tagged with it."""
    tags = ["O"] * len(tokens)
    for start, end, label in spans:
        inside = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
        for n, i in enumerate(inside):
            tags[i] = f"{'B' if n == 0 else 'I'}-{_OF_LABEL[label]}"
    return tags


def fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(TRAIN_FILE.read_bytes())
    here = Path(__file__).parent
    for path in (here / "ner.py", here / "ner_features.py", here / "name_lists.py",
                 *sorted((here / "data").glob("*.txt"))):
        digest.update(path.read_bytes())
    digest.update(json.dumps(PARAMS, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def model_file() -> str:
    """The trained model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"pii-ner-{fingerprint()}.crfsuite"


def train(records: list[dict], path: Path) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for record in records:
        tokens = tokenize(record["text"])
        if tokens:
            trainer.append(features(record["text"], tokens), bio(tokens, record["spans"]))
    trainer.set_params(PARAMS)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        trainer.train(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_records(path: Path = TRAIN_FILE) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _open():
    import pycrfsuite

    global _tagger
    if _tagger is None:
        with _lock:
            if _tagger is None:
                path = model_cache.find(model_file())
                if path is None:
                    path = model_cache.data_dir() / model_file()
                    log.warning("PII name/address model %s is neither in the package nor in DATA_DIR: training it",
                                path.name)
                    train(load_records(), path)
                tagger = pycrfsuite.Tagger()
                tagger.open(str(path))
                _tagger = tagger
    return _tagger


def _word(token: Token) -> bool:
    return token.text[:1].isalnum()


def _trimmed(tokens: list[Token], i: int, j: int) -> tuple[int, int]:
    """Without the punctuation at either end, but with the period of a final abbreviation ("Ave.", "Jr."), the "#"
    glued to a number ("#5-37, boul. …") and the parenthesis that closes one the span opened ("(Québec)")."""
    while i < j and not _word(tokens[i]):
        if tokens[i].text == "#" and i + 1 < j and tokens[i + 1].start == tokens[i].end and \
                tokens[i + 1].text[:1].isdigit():
            break
        i += 1
    while j > i and not _word(tokens[j - 1]):
        if tokens[j - 1].text == "." and j - 2 >= i and tokens[j - 2].end == tokens[j - 1].start and \
                len(tokens[j - 2].text) <= 4 and _word(tokens[j - 2]):
            break
        if tokens[j - 1].text == ")" and sum(t.text == "(" for t in tokens[i:j - 1]) > \
                sum(t.text == ")" for t in tokens[i:j - 1]):
            break
        j -= 1
    return i, j


def _sentence_end(tokens: list[Token], i: int, j: int) -> int:
    """Where a span must stop: at the end of a sentence ("… 28009 Madrid. Mi IBAN"), not at an abbreviation's
    period ("St. Louis", "N. Elm St.")."""
    for k in range(i + 1, j - 1):
        mark, before, after = tokens[k].text, tokens[k - 1], tokens[k + 1]
        if mark in "!?" or (mark == "." and after.start > tokens[k].end and after.text[:1].isupper() and (
                len(before.text) > 4 or before.text[-1:].isdigit())):
            return k
    return j


def _spans(tagger, tokens: list[Token], tags: list[str]) -> Iterator[tuple[int, int, str]]:
    i = 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        kind = tags[i][2:]
        j = i + 1
        while j < len(tags) and tags[j] == f"I-{kind}":
            j += 1
        confidence = sum(tagger.marginal(tags[k], k) for k in range(i, j)) / (j - i)
        start, end = _trimmed(tokens, i, _sentence_end(tokens, i, j))
        if any(t.text[:1].isupper() for t in tokens[start:end]):
            # "Valeria tiene dermatitis", "Guadalajara pero estoy": capitalised names do not run on into lower-case
            # words (an address may still end with a number or a unit: "Suite 4b", "3º")
            while end > start and tokens[end - 1].text[:1].islower() and (
                    kind == "PER" or tokens[end - 1].text.isalpha()):
                end -= 1
            while kind == "PER" and start < end and not tokens[start].text[:1].isupper():
                start += 1
            start, end = _trimmed(tokens, start, end)
        # Words written without a capital or a digit are PII far less often: the model must be surer of them.
        plain = not any(t.text[:1].isupper() or t.text[:1].isdigit() for t in tokens[start:end])
        if end > start and confidence >= (MIN_CONFIDENCE_PLAIN if plain else MIN_CONFIDENCE):
            yield start, end, kind
        i = j


def find_learned(text: str, lang: str | None = None) -> list[Span]:
    """PERSON and ADDRESS spans the model finds in ``text`` (``lang`` is not needed: one model reads all three)."""
    tokens = tokenize(text)
    if not tokens:
        return []
    tagger = _open()
    with _lock:  # a Tagger holds the last sequence it tagged: one message at a time
        tags = tagger.tag(features(text, tokens))
        found = list(_spans(tagger, tokens, tags))
    return [Span(tokens[i].start, tokens[j - 1].end, _TAGS[kind], "ner") for i, j, kind in found]
