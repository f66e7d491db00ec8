"""Places a customer names: the province or state and the country of a city ("je suis à Sherbrooke" → Quebec,
Canada; "¿me lo mandan a Monterrey?" → Nuevo León, México), or the country of a province or state ("au Yukon").

Shipping pages speak of zones (provinces, states, countries), customers of their town. ``with_regions`` adds the
division and country of each place a message names to it, so the search and the answer's sentence are chosen for
the zone. The table is a GeoNames extract (``core/rag/data/places.tsv``; sources and licences in the README beside
it). A one-word name counts when written with a capital inside a sentence, or, in lower case, when it is a large
city's and no ordinary word.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from core.glossary import DESK_TOPICS_PATH, GLOSSARY_PATH, load_entries
from core.text import STOPWORDS, fold, tokens

PLACES_PATH = Path(__file__).resolve().parent / "data" / "places.tsv"
MAX_WORDS = 4  # longest place name looked for, in words
MIN_LETTERS = 4  # shorter one-word names ("Ede", "Bar") are too often something else
LARGE_CITY = 500  # thousands of people: a city this large is recognised in lower case too
# The prepositions (accent-folded, en / fr / es) after which a capitalised word names where someone is or sends to,
# and the comma of "Columbus, Ohio".
_LOCATIVE = frozenset({"to", "in", "at", "near", "from", "into", "a", "au", "aux", "en", "vers", "pour", "dans",
                       "pres", "desde", "hasta", "para", "cerca", ","})
_ARTICLES = frozenset({"the", "le", "la", "les", "l", "el", "los", "las"})
_WORD = re.compile(r"\w+", re.UNICODE)
_LANGUAGES = ("en", "fr", "es")


@dataclass(frozen=True)
class Place:
    name: str  # as the message wrote it
    region: str | None  # first-level division (province, state), None for a division itself
    country: str  # ISO 3166 code


@dataclass(frozen=True)
class _Entry:
    code: str  # "CA.10" (a city), "CA" (a division) or "" (a country)
    thousands: int = 0  # a city's population


class Gazetteer:
    def __init__(self, lines: list[str], ordinary_words: frozenset[str] = frozenset()):
        self.countries: dict[str, dict[str, list[str]]] = {}  # code -> language -> names (display name first)
        self.regions: dict[str, str] = {}  # "CA.10" -> "Quebec"
        self.names: dict[str, _Entry] = {}  # folded name -> what it names
        self.ordinary_words = ordinary_words
        # folded name of a division -> its names in every language the table knows, English first
        self.division_names: dict[str, list[str]] = {}
        self._local: dict[tuple[str, str], str] = {}  # (English name, language) -> the division's name in it
        cities: dict[str, _Entry] = {}
        translated: dict[str, dict[str, list[str]]] = {}  # "CA.02" -> language -> names
        for line in lines:
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            if cells[0] == "C" and len(cells) == 5:
                self.countries[cells[1]] = {lang: [n for n in names.split("|") if n]
                                            for lang, names in zip(_LANGUAGES, cells[2:], strict=True)}
            elif cells[0] == "R" and len(cells) == 3:
                self.regions[cells[1]] = cells[2]
            elif cells[0] == "D" and len(cells) == 4:
                translated[cells[1]] = {lang: [n for n in names.split("|") if n]
                                        for lang, names in zip(_LANGUAGES[1:], cells[2:], strict=True)}
            elif len(cells) == 3 and cells[2].isdigit():
                cities[_key(cells[0])] = _Entry(cells[1], int(cells[2]))
        # A division's name means the division ("Yukon", "Jalisco"), unless a city of that division has it too
        # ("Québec", "New York"); a country's name means the country.
        self.names.update(cities)
        for code, name in self.regions.items():
            others = translated.get(code, {})
            every = list(dict.fromkeys([name, *(n for by_language in others.values() for n in by_language)]))
            for alias in every:
                city = cities.get(_key(alias))
                if city is None or city.code != code:
                    self.names[_key(alias)] = _Entry(code.split(".")[0])
                self.division_names[_key(alias)] = every
            self._local.update({(name, lang): names[0] for lang, names in others.items() if names})
        for names in self.countries.values():
            for name in (n for by_language in names.values() for n in by_language):
                self.names[_key(name)] = _Entry("")

    def find(self, text: str) -> list[Place]:
        """The cities, provinces and states ``text`` names (longest name first where two overlap), in the order
        written. (Kept by text: a turn asks it of the same message and pages' sentences several times.)"""
        return list(self._found(text))

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one table per process (``gazetteer``), kept for its life
    def _found(self, text: str) -> tuple[Place, ...]:
        words = [(m.group(0), fold(m.group(0)), _starts_sentence(text, m.start()), _after(text, m.start()))
                 for m in _WORD.finditer(text)]
        found: list[Place] = []
        i = 0
        while i < len(words):
            for size in range(min(MAX_WORDS, len(words) - i), 0, -1):
                written = words[i:i + size]
                entry = self.names.get(" ".join(w[1] for w in written))
                if entry is None or not self._plausible(entry, written):
                    continue
                name = " ".join(w[0] for w in written)
                if "." in entry.code:
                    found.append(Place(name, self.regions.get(entry.code), entry.code.split(".")[0]))
                elif entry.code:
                    found.append(Place(name, None, entry.code))
                i += size
                break
            else:
                i += 1
        return tuple(found)

    def _plausible(self, entry: _Entry, written: list[tuple[str, str, bool, str]]) -> bool:
        """A name is a place when written with a capital inside a sentence: a name of several words ("vivo en Los
        Angeles"), a large city's, or one written where a place goes ("je suis à Sherbrooke", "Columbus, Ohio"; not
        "c'est Martin" or "le sac Aurora"). In lower case or first in a sentence, only a large city's name that is no
        ordinary word or phrase ("a guadalajara", but not "à la porte")."""
        first, folded = written[0], " ".join(w[1] for w in written)
        if len(written) == 1 and (len(folded) < MIN_LETTERS or folded.isdigit()):
            return False
        if first[0][:1].isupper() and not first[2]:
            return len(written) > 1 or entry.thousands >= LARGE_CITY or first[3] in _LOCATIVE
        return entry.thousands >= LARGE_CITY and not all(w[1] in self.ordinary_words for w in written)

    def country_name(self, code: str, language: str) -> str:
        names = self.countries.get(code, {})
        return (names.get(language[:2]) or names.get("en") or [code])[0]

    def zone(self, place: Place, language: str) -> list[str]:
        """The place's division and country ("Quebec", "Canada"; the country in ``language``, and in English when
        that differs)."""
        country = self.country_name(place.country, language)
        english = self.country_name(place.country, "en")
        region = place.region
        local = self._local.get((region, language[:2])) if region else None
        if region and local and _key(local) != _key(region):
            region = f"{local} / {region}"
        zone = [region] if place.region and _key(place.region) != _key(place.name) else []
        return [*zone, country if country == english else f"{country} / {english}"]


def _after(text: str, at: int) -> str:
    """What comes before the word at ``at``: the previous word (accent-folded), or "," after a comma."""
    before = text[:at].rstrip()
    if before.endswith(","):
        return ","
    words = [fold(w) for w in _WORD.findall(before[-30:])]
    while len(words) > 1 and words[-1] in _ARTICLES:
        words.pop()  # "to the Yukon", "en el Estado de México"
    return words[-1] if words else ""


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?¿¡:\n"


@functools.lru_cache(maxsize=16384)
def _key(name: str) -> str:
    """``name``'s words, accent-folded (kept by text: the zone rules compare the same pages' units and the same
    zone names for every question)."""
    return " ".join(fold(w) for w in _WORD.findall(name))


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer(PLACES_PATH.read_text(encoding="utf-8").splitlines(), _ordinary_words())


def _ordinary_words() -> frozenset[str]:
    """Words of the three languages that are no place: function words and the retail glossary's ("lima" is a
    file, "mango" a fruit)."""
    words = set(STOPWORDS)
    for entry in load_entries([GLOSSARY_PATH, DESK_TOPICS_PATH]):
        for language in _LANGUAGES:
            for phrase in entry.get(language) or []:
                words.update(tokens(phrase) if isinstance(phrase, str) else [])
    return frozenset(words)


def with_regions(text: str, language: str | None) -> str:
    """``text`` followed by the division and country of each city, province or state it names, less those it
    names itself ("… à Sherbrooke?" -> "… à Sherbrooke? (Sherbrooke: Quebec, Canada)"; "au Québec, pour
    Montréal?" -> "… (Québec, Montréal: Canada)"); ``text`` itself when it names none."""
    places = gazetteer().find(text)
    named = f" {' '.join(fold(w) for w in _WORD.findall(text))} "
    zones: dict[str, list[str]] = {}  # zone -> the places in it
    for place in places:
        parts = [p for p in gazetteer().zone(place, language or "en")
                 if not any(f" {_key(n)} " in named for n in p.split(" / "))]
        if parts:
            zones.setdefault(", ".join(parts), []).append(place.name)
    if not zones:
        return text
    described = "; ".join(f"{', '.join(dict.fromkeys(names))}: {zone}" for zone, names in zones.items())
    return f"{text} ({described})"


def zone_levels(text: str) -> tuple[list[str], list[str]]:
    """The zones of the cities, provinces and states ``text`` names: the divisions' names, then the countries', in
    every language the table knows ("Monterrey" -> ["Nuevo León"], ["Mexico", "Mexique", "México"]; "Vancouver" ->
    ["British Columbia", "Colombie-Britannique", "Columbia Británica", …]): the words a shipping page uses for the
    zone, whatever language it is written in."""
    table = gazetteer()
    divisions: list[str] = []
    countries: list[str] = []
    for place in table.find(text):
        division = place.region or place.name
        divisions += table.division_names.get(_key(division), [division])
        countries += [n for by_language in table.countries.get(place.country, {}).values() for n in by_language[:1]]
    return list(dict.fromkeys(divisions)), list(dict.fromkeys(countries))


def zone_names(text: str) -> list[str]:
    """:func:`zone_levels` in one list."""
    divisions, countries = zone_levels(text)
    return divisions + countries


def names_any(text: str, names: list[str]) -> bool:
    """Whether ``text`` names one of ``names`` (accents and case aside, whole words)."""
    folded = f" {_key(text)} "
    return any(f" {_key(name)} " in folded for name in names if _key(name))

