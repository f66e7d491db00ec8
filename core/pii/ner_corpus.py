"""Writes the learned name / address detector's training sentences (``knowledge/pii/ner-*.jsonl``).

``python -m core.pii.ner_corpus`` fills customer-message shapes in en / fr-CA / es (requests, signatures, forms,
addresses on one line or several, lower case, typos, names that are also common words, product and place names that
are not PII) with names and addresses made by Faker (en_US / en_CA / en_GB, fr_CA / fr_FR, es_ES / es_MX). It is run
once and its output committed, so training is reproducible without Faker (a development dependency).

``ner-train.jsonl`` holds the training sentences; ``ner-dev.jsonl`` is a synthetic check set made from shapes the
training never sees (every fifth shape of each language) with another seed.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import REPO_ROOT

if TYPE_CHECKING:
    from faker import Faker

OUT_DIR = REPO_ROOT / "knowledge" / "pii"
SEED_TRAIN, SEED_DEV = 20261206, 777
PER, ADDR = "PERSON", "ADDRESS"

# Slots: {MSG} a customer message without names or addresses (the intent utterances of knowledge/intents, see
# ``utterances``), {NAME} full name, {FIRST} given name, {LAST} family name, {TNAME} a title with a name ("Mme
# Bergeron", "Dr. Ana Ruiz": the title is part of the span), {ADDR} address on one line, {ADDR_ML} on several lines,
# {STREET} street line only, {CITYLINE} city + region + postal code, {CITY} a city named as where the customer lives,
# {PO} a post-office box with its city line. Not PII for this detector: {PRODUCT} {ORDER} {EMAIL} {PHONE} {DATE} {SHOP}
# {BIGCITY} (a city named as a place, not an address) {COMPANY} {CARD} {EXP} {AMOUNT} {TRACKING} {IBAN}, {REL} a
# relation ("my sister", "ma fille"), {SIGNOFF} a closing word ("Thanks", "Cordialement") and {HOLIDAY} a feast day
# ("San Valentín": a saint's name that is not a person).
# The shapes and the words that fill the non-Faker slots are training data: ``knowledge/pii/ner-shapes.json``.
SHAPES_FILE = OUT_DIR / "ner-shapes.json"
SHAPES = json.loads(SHAPES_FILE.read_text(encoding="utf-8"))
TEMPLATES: dict[str, list[str]] = SHAPES["templates"]

LOCALES = {"en": ["en_US", "en_US", "en_CA", "en_GB"], "fr": ["fr_CA", "fr_CA", "fr_FR"], "es": ["es_ES", "es_MX"]}
LANG_CODE = {"en": "en", "fr": "fr-CA", "es": "es"}

# Places named as places ("do you ship to …"), products and shops: capitalised words that are not PII.
BIG_CITIES: dict[str, list[str]] = SHAPES["big_cities"]
PRODUCTS: list[str] = SHAPES["products"]
SHOPS: list[str] = SHAPES["shops"]
_REAL_CITIES: dict[str, list[list[str]]] = SHAPES["real_cities"]
_PROVINCE_LONG: dict[str, str] = SHAPES["province_long"]
NAME_SHARE_ELSEWHERE = 0.2  # names of customers from elsewhere: Faker locales beyond the shop's languages


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.7:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


class _Maker:
    """Names and addresses of one locale, in the forms customers type them."""

    def __init__(self, locale: str, seed: int) -> None:
        from faker import Faker  # development dependency: only this generator uses it

        self.locale = locale
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.elsewhere = [Faker(other) for other in SHAPES["name_locales"]]
        for k, other in enumerate(self.elsewhere):
            other.seed_instance(seed + 100 + k)

    def _namer(self) -> Faker:
        return self.rng.choice(self.elsewhere) if self.rng.random() < NAME_SHARE_ELSEWHERE else self.fake

    def first(self) -> str:
        return self._namer().first_name()

    def last(self) -> str:
        namer = self._namer()
        if self.rng.random() < 0.05:
            return f"{namer.last_name()}-{self._namer().last_name()}"
        return namer.last_name()

    def titled(self, lang: str) -> str:
        """A name after a title: "Mrs. Alvarez", "Dr. Ana Ruiz", "Doña Carmen"."""
        title = self.rng.choice(SHAPES["titles"][lang])
        r = self.rng.random()
        name = self.last() if r < 0.5 else f"{self.first()} {self.last()}" if r < 0.85 else self.first()
        return f"{title} {name}"

    def po_box(self) -> str:
        return self.rng.choice(SHAPES["po_boxes"][self.locale]).format(n=self.rng.randint(1, 9999))

    def name(self) -> str:
        r = self.rng.random()
        if self.locale.startswith("es") and r < 0.4:
            return f"{self.first()} {self.last()} {self.last()}"
        if r < 0.12 and self.locale.startswith("en"):
            return f"{self.first()} {self.first()[0]}. {self.last()}"
        if r < 0.18:
            return f"{self.first()[0]}. {self.last()}"
        return f"{self.first()} {self.last()}"

    def _number(self) -> str:
        r = self.rng.random()
        return str(self.rng.randint(1, 99) if r < 0.4 else self.rng.randint(100, 9999) if r < 0.9
                   else self.rng.randint(10000, 99999))

    def _street_name(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.last()
        if r < 0.5:
            return f"{self.first()} {self.last()}" if not self.locale.startswith("en") else self.first()
        if r < 0.65 and self.locale.startswith("en"):
            return self.rng.choice(SHAPES["en_street_names"])
        if r < 0.65:
            return self.rng.choice(SHAPES["other_street_names"])
        return self.fake.street_name().split(" ", 1)[-1] if self.rng.random() < 0.5 else self.last()

    def street(self) -> str:
        rng, loc = self.rng, self.locale
        if loc in ("en_US", "en_CA", "en_GB"):
            if rng.random() < 0.3:
                line = self.fake.street_address()
            else:
                suffix = self.fake.street_suffix() if rng.random() < 0.35 else rng.choice(SHAPES["en_street_types"])
                direction = rng.choice(SHAPES["en_directions"])
                line = f"{self._number()} {direction}{self._street_name()} {suffix}"
                if rng.random() < 0.1:
                    line += rng.choice(SHAPES["en_direction_after"])
            if loc == "en_CA" and rng.random() < 0.15:
                line = rng.choice(SHAPES["en_unit_prefixes"]).format(u=rng.randint(1, 2400)) + line
            elif rng.random() < 0.25:
                unit = rng.choice(SHAPES["en_units"])
                if loc == "en_GB" and unit.startswith("Flat"):
                    line = f"{unit}, {line}"
                else:
                    line = f"{line}, {unit}" if rng.random() < 0.7 else f"{line} {unit}"
            return line
        if loc in ("fr_CA", "fr_FR"):
            kind = rng.choice(SHAPES["fr_street_types"])
            name = self._street_name()
            if loc == "fr_FR" and rng.random() < 0.5:
                name = rng.choice(SHAPES["fr_articles"]) + name
            number = self._number()
            if loc == "fr_CA" and rng.random() < 0.15:
                number = f"{rng.randint(1, 2400)}-{number}"
            line = f"{number}{',' if rng.random() < 0.5 else ''} {kind} {name}"
            if loc == "fr_CA" and rng.random() < 0.25:
                line += rng.choice(SHAPES["fr_directions"])
            if rng.random() < 0.3:
                unit = rng.choice(SHAPES["fr_units"])
                line = f"{line}, {unit}" if rng.random() < 0.6 else f"{unit}-{line}" if unit[0] == "#" else \
                    f"{line} {unit}"
            return line
        kind = rng.choice(SHAPES["es_street_types"])
        name = self._street_name()
        if rng.random() < 0.4:
            name = rng.choice(SHAPES["es_articles"]) + name
        number = self._number()
        line = f"{kind.rstrip()} {name}{rng.choice(SHAPES['es_number_joins'])}{number}"
        if rng.random() < 0.4:
            unit = rng.choice(SHAPES["es_units"]).format(n=rng.randint(1, 9), m=rng.randint(1, 40),
                                                        k=rng.randint(1, 6), L=rng.choice("ABCD"))
            line += rng.choice([", ", " "]) + unit
        return line

    def city_region(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            return self.rng.choice(_REAL_CITIES[self.locale])
        city = self.fake.city()
        region = ""
        for attr in ("state_abbr", "province_abbr"):
            if hasattr(self.fake, attr):
                region = getattr(self.fake, attr)()
                break
        if not region and self.locale in ("es_ES", "es_MX"):
            region = self.fake.administrative_unit()
        return city, region

    def cityline(self) -> str:
        city, region = self.city_region()
        code = self.fake.postcode()
        rng, loc = self.rng, self.locale
        if loc in ("en_US", "en_CA"):
            return rng.choice([f"{city}, {region} {code}", f"{city} {region} {code}", f"{city}, {region}",
                               f"{city}, {region}, {code}"])
        if loc == "en_GB":
            return rng.choice([f"{city} {code}", f"{city}, {code}", f"{city}\n{code}"])
        if loc == "fr_CA":
            long = _PROVINCE_LONG.get(region, f"({region})")
            return rng.choice([f"{city} {long} {code}", f"{city}, {region} {code}", f"{city}, {region}",
                               f"{city} (Qc) {code}"])
        if loc == "fr_FR":
            return rng.choice([f"{code} {city}", f"{code} {city.upper()}", f"{code} {city}, France"])
        if loc == "es_MX":
            colonia = f"Col. {self.rng.choice([self.last(), *SHAPES['es_colonias'], self.first()])}"
            return rng.choice([f"{colonia}, {code} {city}, {region}", f"{code} {city}, {region}",
                               f"{colonia}, C.P. {code}, {city}"])
        return rng.choice([f"{code} {city}", f"{code} {city} ({region})", f"{code}, {city}"])

    def address(self, multiline: bool = False) -> str:
        sep = "\n" if multiline else self.rng.choice([", ", ", ", " ", ", "])
        first = self.po_box() if self.rng.random() < 0.06 else self.street()
        return f"{first}{sep}{self.cityline()}"

    def city(self) -> str:
        return self.city_region()[0]


_WORDS = re.compile(r"\w+")


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _names_someone(text: str) -> bool:
    """A message that already names someone or gives a street (a capitalised word of the given / family name lists
    after its first word, or a house number before capitalised words): it would teach the model that a name or an
    address is not one."""
    from .name_lists import family_names, given_names
    from .ner_features import tokenize
    from .normalize import fold

    tokens = tokenize(text)
    for i, token in enumerate(tokens):
        if i and token.text[:1].isupper() and (fold(token.text) in given_names() or fold(token.text) in family_names()):
            return True
        if token.text.isdigit() and i + 2 < len(tokens) and tokens[i + 1].text[:1].isupper() and \
                tokens[i + 2].text[:1].isupper():
            return True
    return False


def utterances(lang: str, train: bool) -> list[str]:
    """Customer messages of one language from the intent sets, without the ones that name someone or give a street,
    and without any that shares five words in a row with a message of the PII eval set (``knowledge/eval/pii``),
    which stays a development measure only."""
    eval_shingles: set[tuple[str, ...]] = set()
    for path in (REPO_ROOT / "knowledge" / "eval" / "pii").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            eval_shingles |= _shingles(json.loads(line)["text"])
    out = []
    for path in sorted((REPO_ROOT / "knowledge" / "intents").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("lang") != LANG_CODE[lang] or (row.get("split", "train") == "train") != train:
                continue
            text = row["text"]
            if _names_someone(text) or _shingles(text) & eval_shingles:
                continue
            out.append(text)
    return out


def _other(lang: str, slot: str, maker: _Maker, rng: random.Random, pool: list[str]) -> str:
    if slot == "MSG":
        return rng.choice(pool)
    if slot == "PRODUCT":
        return rng.choice(PRODUCTS)
    if slot == "SHOP":
        return rng.choice(SHOPS)
    if slot == "COMPANY":
        return maker.fake.company()
    if slot == "HOLIDAY":
        return rng.choice(SHAPES["holidays"][lang])
    if slot == "REL":
        return rng.choice(SHAPES["relations"][lang])
    if slot == "SIGNOFF":
        return rng.choice(SHAPES["sign_offs"][lang])
    if slot == "BIGCITY":
        return rng.choice(BIG_CITIES[lang])
    if slot == "ORDER":
        return rng.choice(["#", "", "no ", "SD-"]) + str(rng.randint(1000, 99999))
    if slot == "EMAIL":
        return maker.fake.email()
    if slot == "PHONE":
        return maker.fake.phone_number()
    if slot == "CARD":
        number = maker.fake.credit_card_number()
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4)) if rng.random() < 0.6 else number
    if slot == "EXP":
        return maker.fake.credit_card_expire()
    if slot == "AMOUNT":
        value = f"{rng.randint(5, 2500)}{rng.choice(['.00', '.99', ',50', ''])}"
        return rng.choice([f"${value}", f"{value} $", f"{value} €", f"€{value}", f"{value} USD", f"MXN {value}"])
    if slot == "TRACKING":
        return rng.choice([f"1Z{rng.randint(10**15, 10**16 - 1):X}", f"RN{rng.randint(10**8, 10**9 - 1)}CA",
                           str(rng.randint(10**11, 10**12 - 1)), f"LX{rng.randint(10**8, 10**9 - 1)}ES"])
    if slot == "IBAN":
        return maker.fake.iban()
    if slot == "DATE":
        return maker.fake.date(pattern=rng.choice(["%B %d", "%d/%m/%Y", "%Y-%m-%d", "%d %B"]))
    raise KeyError(slot)


_SLOT = re.compile(r"\{([A-Z_]+)\}")


def fill(template: str, lang: str, maker: _Maker, rng: random.Random, pool: list[str]) -> dict:
    """One message from a shape: its text and its PERSON / ADDRESS spans (character offsets)."""
    lower = rng.random() < 0.15
    typos = rng.random() < 0.2
    parts: list[str] = []
    spans: list[list] = []
    pos = 0
    for k, chunk in enumerate(_SLOT.split(template)):
        if not chunk:
            continue
        slot = chunk if k % 2 else None  # split() puts the slot names at odd positions
        if slot is None:
            text = chunk
            if typos:
                text = " ".join(_typo(w, rng) if rng.random() < 0.15 else w for w in text.split(" "))
            label = None
        elif slot in ("NAME", "FIRST", "LAST", "TNAME"):
            text = maker.name() if slot == "NAME" else maker.first() if slot == "FIRST" else \
                maker.titled(lang) if slot == "TNAME" else maker.last()
            label = PER
        elif slot in ("ADDR", "ADDR_ML", "STREET", "CITYLINE", "CITY", "PO"):
            text = (maker.address(multiline=slot == "ADDR_ML") if slot.startswith("ADDR") else
                    maker.street() if slot == "STREET" else maker.cityline() if slot == "CITYLINE" else
                    f"{maker.po_box()}{rng.choice([', ', ' ', chr(10)])}{maker.cityline()}" if slot == "PO" else
                    maker.city())
            label = ADDR
        else:
            text = _other(lang, slot, maker, rng, pool)
            label = None
            if slot in ("REL", "SIGNOFF") and (not parts or "".join(parts).rstrip()[-1:] in ".!?\n"):
                text = text[:1].upper() + text[1:]  # a sentence starts with it
        if lower or (label and rng.random() < 0.08):
            text = text.lower()
        elif label and rng.random() < 0.04:
            text = text.upper()
        parts.append(text)
        if label:
            spans.append([pos, pos + len(text), label])
        pos += len(text)
    return {"text": "".join(parts), "lang": LANG_CODE[lang], "spans": spans}


def held_out(index: int) -> bool:
    """Every fifth shape of a language is kept for the check set and never trained on."""
    return index % 5 == 4


def generate(per_language: int, seed: int, dev: bool) -> list[dict]:
    out = []
    for lang, templates in TEMPLATES.items():
        shapes = [(i, t) for i, t in enumerate(templates) if held_out(i) == dev]
        makers = [_Maker(loc, seed + k) for k, loc in enumerate(LOCALES[lang])]
        rng = random.Random(seed)
        pool = utterances(lang, train=not dev)
        for n in range(per_language):
            index, template = shapes[n % len(shapes)]
            record = fill(template, lang, rng.choice(makers), rng, pool)
            record["shape"] = f"{lang}-{index}"
            out.append(record)
    return out


def write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> int:
    write(OUT_DIR / "ner-train.jsonl", generate(7000, SEED_TRAIN, dev=False))
    write(OUT_DIR / "ner-dev.jsonl", generate(400, SEED_DEV, dev=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
