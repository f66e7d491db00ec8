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
from core.text import fold, tokens

_SIZES: dict[str, list[str]] = lexicon.load("variants")["sizes"]
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


def _words(text: str) -> set[str]:
    # A figure glued to its unit ("230g", "70x70mm") is the figure and the unit.
    text = re.sub(r"(\d)([^\W\d_])", r"\1 \2", text)
    return {fold(t) for t in tokens(_DECIMAL.sub(_decimal_word, text))}


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


def _option_matches(option: str, words: set[str], sizes: set[str]) -> bool:
    folded = fold(option).strip()
    if folded in _SIZES:
        return folded in sizes
    option_words = [w for w in _words(option) if len(w) >= 3 or w.isdigit()]
    # An option named in French or Spanish ("Amarillo", "Bleu marine") is asked for by its English name too.
    option_words += [fold(w) for w in default_glossary().english_words(option) if len(w) >= 3]
    return bool(option_words) and any(w in words for w in option_words)


def asked_variants(title: str, variants: list[dict], message: str) -> list[dict]:
    """The variants whose names the message matches best (most option values named), or [] when it names none
    or every variant alike."""
    if len(variants) < 2 or not message.strip():
        return []
    words = _words(message) | {fold(w) for w in default_glossary().english_words(message)}
    words -= _words(title)
    sizes = _sizes_named(message)
    scored = []
    for variant in variants:
        options = [o for o in str(variant.get("title") or "").split("/") if o.strip()]
        scored.append((sum(_option_matches(o, words, sizes) for o in options), variant))
    best = max(score for score, _ in scored)
    chosen = [v for score, v in scored if score == best]
    return chosen if best > 0 and len(chosen) < len(variants) else []
