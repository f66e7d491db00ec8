"""BM25 lexical index over KB chunks (accent-folded tokens, light suffix stripping for en/fr/es)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.text import STOPWORDS, tokens

_SUFFIXES = ("ements", "ement", "ations", "ation", "iones", "ion", "ing", "es", "s")


def stem(token: str) -> str:
    if token.isdigit() or len(token) <= 4:
        return token
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


def analyze(text: str) -> list[str]:
    return [stem(t) for t in tokens(text) if t not in STOPWORDS]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    title: str
    url: str | None
    lang: str
    category: str
    text: str


def chunk_document(doc_id: str, title: str, content: str, *, url: str | None, lang: str, category: str,
                   max_chars: int = 700) -> list[Chunk]:
    """Split on Markdown headings, then pack paragraphs up to ``max_chars``; every chunk carries its title."""
    sections = re.split(r"\n(?=#{1,6}\s)", content)
    chunks: list[Chunk] = []
    pending_heading = ""
    for section in sections:
        section = section.strip()
        if not section:
            continue
        if re.fullmatch(r"#{1,6}\s+[^\n]+", section):
            # A heading with no text of its own (a title over sub-sections) joins the section that follows.
            pending_heading = f"{pending_heading}\n{section}".strip()
            continue
        if pending_heading:
            section, pending_heading = f"{pending_heading}\n{section}", ""
        heading_match = re.match(r"#{1,6}\s+(.+)", section)
        heading = heading_match.group(1).strip() if heading_match else ""
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", section) if p.strip()]
        current = ""
        for paragraph in paragraphs:
            if current and len(current) + len(paragraph) > max_chars:
                chunks.append(Chunk(doc_id, title, url, lang, category, current))
                current = f"{heading}\n{paragraph}" if heading and not paragraph.startswith("#") else paragraph
            else:
                current = f"{current}\n\n{paragraph}" if current else paragraph
        if current:
            chunks.append(Chunk(doc_id, title, url, lang, category, current))
    if pending_heading and not chunks:
        chunks.append(Chunk(doc_id, title, url, lang, category, pending_heading))
    return chunks or [Chunk(doc_id, title, url, lang, category, content.strip())]


class Bm25Index:
    """Okapi BM25 over chunks (anything with ``title`` and ``text``), with numpy postings so a query costs
    O(postings of its terms), not O(corpus)."""

    def __init__(self, chunks: Sequence[Any], k1: float = 1.4, b: float = 0.75):
        self.chunks = list(chunks)
        self.k1, self.b = k1, b
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = np.zeros(len(self.chunks), dtype=np.float32)
        for i, chunk in enumerate(self.chunks):
            # The title is repeated so that naming a product or policy weighs more than a passing mention.
            tf = Counter(analyze(f"{chunk.title} {chunk.title} {chunk.text}"))
            lengths[i] = sum(tf.values())
            for term, count in tf.items():
                postings.setdefault(term, []).append((i, count))
        avg = float(lengths.mean()) if len(lengths) else 1.0
        self._norm = self.k1 * (1 - self.b + self.b * lengths / max(avg, 1e-9))
        n = len(self.chunks)
        self._postings = {t: (np.fromiter((i for i, _ in p), np.int32, len(p)),
                              np.fromiter((c for _, c in p), np.float32, len(p))) for t, p in postings.items()}
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self._max_idf = max(self._idf.values(), default=1.0)

    def search(self, query: str, k: int, *, alternatives: bool = False) -> list[tuple[Any, float]]:
        """The ``k`` best chunks and their score, 0..1 against a perfect match. ``alternatives``: the query lists
        ways of saying the same things (a glossary's words for them), so words the KB never uses do not count
        against the match."""
        query_terms = list(dict.fromkeys(analyze(query)))
        terms = [t for t in query_terms if t in self._idf]
        if not terms or not self.chunks:
            return []
        # Words the KB never uses still count against the match: "do you sell bicycles?" must not look like a
        # good match for a page that merely says "sell".
        unknown_weight = self._max_idf * (self.k1 + 1)
        max_possible = sum(self._idf[t] * (self.k1 + 1) for t in terms) + unknown_weight * (
            0 if alternatives else len(query_terms) - len(terms))
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        for term in terms:
            idx, tf = self._postings[term]
            scores[idx] += self._idf[term] * tf * (self.k1 + 1) / (tf + self._norm[idx])
        hits = np.flatnonzero(scores)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        # Normalised to 0..1 against a perfect match, so one threshold works for every tenant.
        return [(self.chunks[i], float(scores[i]) / max_possible) for i in hits]
