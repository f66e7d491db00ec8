"""BM25 lexical index over KB chunks (accent-folded tokens, light suffix stripping for en/fr/es)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

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
    def __init__(self, chunks: list[Chunk], k1: float = 1.4, b: float = 0.75):
        self.chunks = chunks
        self.k1, self.b = k1, b
        self._tfs: list[Counter[str]] = []
        df: Counter[str] = Counter()
        for chunk in chunks:
            # The title is repeated so that naming a product or policy weighs more than a passing mention.
            terms = analyze(f"{chunk.title} {chunk.title} {chunk.text}")
            tf = Counter(terms)
            self._tfs.append(tf)
            df.update(tf.keys())
        self._lengths = [sum(tf.values()) for tf in self._tfs]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        n = len(chunks)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        query_terms = list(dict.fromkeys(analyze(query)))
        terms = [t for t in query_terms if t in self._idf]
        if not terms:
            return []
        scored = []
        # Words the KB never uses still count against the match: "do you sell bicycles?" must not look like a
        # good match for a page that merely says "sell".
        unknown_weight = max(self._idf.values()) * (self.k1 + 1)
        max_possible = sum(self._idf[t] * (self.k1 + 1) for t in terms) + unknown_weight * (
            len(query_terms) - len(terms))
        for i, tf in enumerate(self._tfs):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * self._lengths[i] / self._avg)
            for term in terms:
                f = tf.get(term)
                if f:
                    score += self._idf[term] * f * (self.k1 + 1) / (f + norm)
            if score > 0:
                # Normalised to 0..1 against a perfect match, so one threshold works for every tenant.
                scored.append((self.chunks[i], score / max_possible))
        scored.sort(key=lambda item: item[1], reverse=True)
        return scored[:k]
