"""Which of a product's variants (size, colour, edition…) a customer's message asks about.

A variant's name is the shop's ("Ember Orange / M", "Glacier Blue / XS", "Español"): each of its option values is
matched against the message's words, the English names of colours and materials the retail glossary gives for a
French or Spanish message ("azul" -> blue) or option ("Amarillo" is asked as "yellow"), and the usual ways to write
a clothing size ("medium", "talla M", "moyen"). The product's own name does not count: "the Ember hoodie" does not
ask for the "Ember Orange" colour.
"""

from __future__ import annotations

import re

from core import lexicon
from core.glossary import default_glossary
from core.text import STOPWORDS, fold, tokens

_SIZES: dict[str, list[str]] = lexicon.load("variants")["sizes"]
# Stock, price and availability questions ("how much is it?", "¿tienen…?"), which a product's card answers.
ASKS_STOCK = lexicon.compile_phrases(lexicon.load("response")["asks_stock"])
_SIZE_NAMES = sorted(((fold(name), code) for code, names in _SIZES.items() for name in names),
                     key=lambda item: len(item[0]), reverse=True)
# A bare size code the customer wrote ("talla M", "en L?"): upper case, standing alone (not the "m" of "I'm").
_SIZE_CODE = re.compile(r"(?<![\w'’])(XXS|XS|S|M|L|XL|XXL|2XL)(?![\w'’])")


# A decimal figure ("3.5 mm", "4,0 mm", "1.5 L"), not a thousands group ("10,000").
_DECIMAL = re.compile(r"(?<![\d.,])(\d+)[.,](\d{1,2})(?![\d.,])")


def _decimal_word(match: re.Match) -> str:
    """One word for a decimal figure, the same however it is written: "4,0" and "4" are "4", "3,5" and "3.5" are
    "3d5" (a figure's parts are no figures of their own: "3.5 mm" does not ask for "2,5 mm")."""
    whole, fraction = match.group(1).lstrip("0") or "0", match.group(2).rstrip("0")
    return f"{whole}d{fraction}" if fraction else whole


def _word_list(text: str) -> list[str]:
    # A figure glued to its unit ("230g", "70x70mm") is the figure and the unit; an inch mark is the unit "in".
    text = re.sub(r"(\d)\s*[\"″”]", r"\1 in ", text)
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)
    return [fold(t) for t in tokens(_DECIMAL.sub(_decimal_word, text))]


def _words(text: str) -> set[str]:
    return set(_word_list(text))


_FIGURE = re.compile(r"\d+(?:d\d+)?")


# The marks that end a clause, unless a figure goes on after them ("3.5", "4,0"): a figure's unit is never written
# past one ("in 240? want it for my dad": no unit).
_CLAUSE_MARKS = "?!;¿¡.,"


def _clauses(text: str) -> list[str]:
    parts, start = [], 0
    for i, mark in enumerate(text):
        if mark in _CLAUSE_MARKS and not text[i + 1:i + 2].isdigit():
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _figure_units(text: str) -> dict[str, set[str]]:
    """Each figure of the text and the word written right after it in the same clause ("" for none): its unit or
    what it counts."""
    found: dict[str, set[str]] = {}
    for clause in _clauses(text):
        words = _word_list(clause)
        for i, word in enumerate(words):
            if _FIGURE.fullmatch(word):
                after = words[i + 1] if i + 1 < len(words) and words[i + 1].isalpha() else ""
                found.setdefault(word, set()).add(after)
    return found


def _same_quantity(asked: set[str], offered: set[str]) -> bool:
    """Whether a figure the message writes with ``asked`` after it may be the option's, written with ``offered``:
    either without a unit, or units that begin alike ("mois" and "M", "grado" and "GB"; not "6 ppl" and "6-inch")."""
    return any(not a or not b or a[0] == b[0] for a in asked for b in offered)


def _sizes_named(message: str) -> set[str]:
    folded = f" {fold(message)} "
    found: set[str] = set()
    for name, code in _SIZE_NAMES:
        pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
        if re.search(pattern, folded):
            found.add(code)
            folded = re.sub(pattern, " ", folded)
    found |= {m.group(1).lower().replace("2xl", "xxl") for m in _SIZE_CODE.finditer(message)}
    return found


def _option_matches(option: str, words: set[str], sizes: set[str], figures: dict[str, set[str]], message: str = ""
                    ) -> int:
    """How many of the option's words the message names (a size code: 1 when named): "8 inch" names more of
    "Medium 8-inch" than of "Small 6-inch"."""
    folded = fold(option).strip()
    if folded in _SIZES:
        return int(folded in sizes)
    option_words = [w for w in _words(option) if len(w) >= 3 or w.isdigit()]
    # An option named in French or Spanish ("Amarillo", "Bleu marine") is asked for by its English name too.
    option_words += [fold(w) for w in default_glossary().english_words(option) if len(w) >= 3]
    offered = _figure_units(option)
    named = sum(w in words and (w not in offered or _same_quantity(figures.get(w, {""}), offered[w]))
                for w in dict.fromkeys(option_words))
    # (an option named by a short code before its gloss, "LL (L-Long)": the code written alone names it)
    code = folded.split("(")[0].strip()
    if not named and code and code != folded and len(code.split()) == 1 \
            and re.search(rf"(?<![\w'’-]){re.escape(code)}(?![\w'’-])", fold(message)):
        return 1
    return named


def asked_variants(title: str, variants: list[dict], message: str) -> list[dict]:
    """The variants whose names the message matches best (most words of their option values named), or [] when it
    names none or every variant alike."""
    if len(variants) < 2 or not message.strip():
        return []
    words = _words(message) | {fold(w) for w in default_glossary().english_words(message)}
    words -= _words(title)
    sizes, figures = _sizes_named(message), _figure_units(message)
    scored = []
    for variant in variants:
        options = [o for o in str(variant.get("title") or "").split("/") if o.strip()]
        scored.append((sum(_option_matches(o, words, sizes, figures, message) for o in options), variant))
    best = max(score for score, _ in scored)
    chosen = [v for score, v in scored if score == best]
    return chosen if best > 0 and len(chosen) < len(variants) else []


def named_only_as_variant(title: str, previous_title: str, previous_variants: list[dict], message: str) -> bool:
    """Whether the words of the message that name the product ``title`` all name variants of another product, the
    one the conversation was about (``previous_title``, ``previous_variants``), and the message asks for one of
    those: "and the regular tenor ones, how much?" after a question about ukulele strings names the strings'
    "Tenor", not the tenor ukulele."""
    if not asked_variants(previous_title, previous_variants, message):
        return False
    named = _words(message) & _words(title)
    options = {w for v in previous_variants for w in _words(str(v.get("title") or ""))} - _words(previous_title)
    return bool(named) and named <= options


def asks_only_stock(message: str) -> bool:
    """Whether the message asks a product's stock, price or availability and nothing else ("how much is it?",
    "¿cuánto cuesta?", "is it in stock?"): a question that names no subject of its own."""
    folded = fold(message)
    if not ASKS_STOCK.search(folded):
        return False
    rest = [t for t in tokens(ASKS_STOCK.sub(" ", folded)) if len(t) > 2 and t not in STOPWORDS]
    return not rest
