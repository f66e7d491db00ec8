"""The yes or no of a question answered by quoting a page in another language.

A French or Spanish customer asking "¿aceptan pago en cuotas?" of a shop whose page says, in English, "We don't
accept instalments" gets the quotation; before it, the desk says the answer in the customer's own words: the
question's clause, negated ("No, no aceptamos pago en cuotas."). The clause of the quotation that answers the
question is the one the embedder finds closest to it; only a clause holding a negation word of its language
(``polarity`` in core/agents/data/response.json) makes the answer a no. A question the desk cannot negate
grammatically (a singular subject whose verb it cannot find) gets no lead: the quotation answers alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from core import lexicon
from core.glossary import default_glossary
from core.rag.answer_units import Ranked, Unit
from core.text import STOPWORDS, fold, tokens

_DATA = lexicon.load("response")["polarity"]
_WORDS = {key: {lang: frozenset(fold(w) for w in words) for lang, words in _DATA[key].items() if lang != "note"}
          for key in ("negation", "asking", "subject_plural", "function")}
_ASKING_ACCENTED = {lang: frozenset(words) for lang, words in _DATA["asking_accented"].items() if lang != "note"}
_FIRST_PERSON_FR = lexicon.by_language(_DATA["first_person_fr"])
_POSSESSIVE_FR = lexicon.by_language(_DATA["possessive_fr"])
_NONE_ES = lexicon.by_language(_DATA["none_es"])
_LEAD = lexicon.by_language(_DATA["lead"])
_AFFIRM = lexicon.by_language(_DATA["affirm"])
_BREAKS = lexicon.by_language(_DATA["clause_breaks"])

MAX_LEADS = 2  # yes/no questions of one message answered before the quotation
MIN_CLAUSE_WORDS = 2
SHARED_WORD_WEIGHT = 0.02  # added to a quoted clause's similarity for each content word it shares with the question
MAX_SHARED_WORDS = 2

_QUESTION = re.compile(r"([^.!?¿¡\n]*)\?")
_WORD = re.compile(r"[\w'’-]+", re.U)
_VOWEL_START = re.compile(r"^[aeiouyhâàéèêîôû]", re.I)
_FRENCH_PARTICLE = re.compile(r"-(?:t-)?(?:tu|vous|il|elle|ils|elles|on)$", re.I)
# Words opening a clause that join it to the one before ("y", "pis", "et", "o", "mais"): not its subject or verb.
_OPENERS = [w for lang in ("fr", "es") for w in _BREAKS[lang] + _DATA["openers"][lang]]
_OPENING = re.compile(r"^(?:(?:" + "|".join(_OPENERS) + r")\s+)+", re.I)
# After a negated verb, "des", "du", "un", "une" become "de" ("nous ne vendons pas de cartouches").
_PARTITIVE = re.compile(r"\bpas (?:(?:des|du|une|un|de la)\s+|de l['’]\s*)(?=(\w))", re.I)
_EST_CE_QUE = re.compile(r"^est[- ]ce qu(?:e\s+|['’]\s*)", re.I)

Ranker = Callable[[str, list[tuple[str, float]], Callable[[Unit, int], float]], list[Ranked]]


def yes_no_clauses(message: str, language: str) -> list[str]:
    """The message's questions that a yes or a no answers and that the desk can negate: each clause before a
    question mark (from the last comma), without a question word of ``language``."""
    return [clause for clause, _ in yes_no_questions(message, language)]


def yes_no_questions(message: str, language: str) -> list[tuple[str, str]]:
    """``yes_no_clauses`` with, for each, the words that follow it up to the next question ("se puede pagar en
    cuotas? tipo afterpay o klarna."): what it asks about."""
    kept = []
    for match in _QUESTION.finditer(message):
        clause = _OPENING.sub("", re.split(r"[,;:]", match.group(1))[-1].strip())
        words = tokens(clause)
        if len(words) >= MIN_CLAUSE_WORDS and not _asks_open(clause, words, language) and negate(clause, language):
            kept.append((clause, match))
    # each question reads on up to the next one kept ("aceptan pago en cuotas? klarna, afterpay, algo asi?")
    return [(clause, f"{clause}?{message[match.end():kept[i + 1][1].start(1) if i + 1 < len(kept) else None]}".strip())
            for i, (clause, match) in enumerate(kept)]


def _asks_open(clause: str, words: list[str], language: str) -> bool:
    if set(words) & _WORDS["asking"].get(language, frozenset()):
        return True
    raw = {w.lower() for w in _WORD.findall(clause)}
    if raw & _ASKING_ACCENTED.get(language, frozenset()):
        return True
    # an unaccented question word opening the clause ("que hora abren", "como funciona")
    return bool(words) and words[0] in {fold(w) for w in _ASKING_ACCENTED.get(language, ())}


def negative(text: str, language: str) -> bool:
    """Whether the text holds a negation word of its language ("don't", "never", "ne … pas", "no", "nunca")."""
    folded = fold(text)
    if language == "en" and re.search(r"n['’]t\b", folded):
        return True
    if language == "fr" and re.search(r"\bn['’]", folded):
        return True
    return bool(set(_WORD.findall(folded)) & _WORDS["negation"].get(language, frozenset()))


def clauses(text: str, language: str) -> list[str]:
    """The quotation's clauses: its sentences, cut again before a joining word ("never expire | and can be used
    in the shop")."""
    joining = "|".join(_BREAKS.get(language, []))
    pieces = re.split(r"(?<=[.!?;])\s+", text)
    if joining:
        pieces = [p for piece in pieces for p in re.split(rf",?\s+(?:{joining})\s+", piece, flags=re.I)]
    return [p.strip() for p in pieces if len(tokens(p)) >= MIN_CLAUSE_WORDS]


def polarity_lead(ranker: Ranker, message: str, quotes: Sequence[tuple[str, str]], language: str) -> str:
    """The customer-language lead ("No, no aceptamos pago en cuotas.") of a reply quoting ``quotes`` ((text, its
    language) in another language than ``language``): one sentence per yes/no question of the message whose
    closest clause of the quotations is negative and that the desk can negate. Empty when there is none."""
    if language not in _LEAD or not quotes:
        return ""
    pieces = [(clause, source) for text, source in quotes for clause in clauses(text, source)]
    if not pieces:
        return ""
    leads = []
    for question, context in yes_no_questions(message, language)[:MAX_LEADS]:
        # each clause a document of its own, so that no two are read as one unit; the words the question and a
        # clause share (a brand, a product word through the retail glossary) help the embedder decide
        asked = _content_words(context) | default_glossary().english_words(context)
        shared = [len(asked & _content_words(clause)) for clause, _ in pieces]
        ranked = ranker(context, [(clause, 0.0) for clause, _ in pieces],
                        lambda unit, index, shared=shared: SHARED_WORD_WEIGHT * min(shared[index], MAX_SHARED_WORDS))
        if not ranked:
            continue
        clause, source = pieces[ranked[0].source]
        # the clause must name something the question names: a "no" about another subject would mislead
        if not shared[ranked[0].source]:
            continue
        if not negative(clause, source):
            # a clause granting, by its own name, what the question asks for by that name ("vous prenez PayPal?":
            # "Online: PayPal") is a yes; one sharing only a common word with it ("ship") decides nothing
            if _names(question) & _names(clause, capitalised=True) and language in _AFFIRM:
                leads.append(_AFFIRM[language])
            continue
        negated = negate(question, language)
        if negated:
            leads.append(_LEAD[language].format(clause=negated))
    return " ".join(leads)


def _names(text: str, *, capitalised: bool = False) -> set[str]:
    """The text's content words (accent-folded); ``capitalised``: only those written with a capital inside a word or
    after a sentence's first word, names of things (a brand, a payment service, a place) the text speaks of."""
    words = _WORD.findall(text)
    if capitalised:
        words = [w for i, w in enumerate(words) if (i and w[:1].isupper()) or any(c.isupper() for c in w[1:])]
    return _content_words(" ".join(words))


def _content_words(text: str) -> set[str]:
    return {w for w in tokens(text) if len(w) >= 4 and w not in STOPWORDS}


def negate(clause: str, language: str) -> str | None:
    """The question's clause as a negative answer in its language, or None when its verb cannot be found."""
    clause = clause.strip().strip("¿?¡! ").strip()
    if not clause:
        return None
    if language == "es":
        return _negate_es(clause)
    if language == "fr":
        return _negate_fr(clause)
    return None


def _lower_first(words: list[str]) -> list[str]:
    if words and words[0][:1].isupper() and words[0][1:2].islower():
        words[0] = words[0][:1].lower() + words[0][1:]
    return words


def _negate_es(clause: str) -> str | None:
    words = _lower_first(clause.split())
    first = fold(words[0])
    if first in _WORDS["negation"]["es"]:
        return None
    if first in _WORDS["subject_plural"]["es"]:
        # "las tarjetas de regalo tienen fecha…": "no" before the plural verb, the first word ending in -n
        for i in range(1, len(words)):
            word = fold(words[i]).strip(",")
            # a word after a preposition is its object ("sin gluten"), not the verb
            after_preposition = fold(words[i - 1]) in _WORDS["function"]["es"]
            if word.endswith("n") and len(word) > 2 and word not in _WORDS["function"]["es"] and not after_preposition:
                return " ".join([*words[:i], "no", *words[i:]])
        return None
    if first == "se" or first in _WORDS["function"]["es"] and first not in ("me", "le", "les", "nos", "te"):
        return f"no {' '.join(words)}" if first == "se" else None
    # a verb first: "aceptan pago en cuotas" (asked of the shop) -> "no aceptamos pago en cuotas"
    start = 1 if first in ("me", "le", "les", "nos", "te") else 0
    if start >= len(words):
        return None
    verb = fold(words[start])
    # asked of the shop ("ustedes"): answered with "nosotros". A word in -an is a verb; one in -en only when its
    # stem changes (pueden -> podemos, tienen -> tenemos: -er verbs, since -ir verbs take -imos), as "origen" or
    # "imagen" are nouns; "hay" stays. Any other first word may be a noun ("transferencia spei?"): no sentence.
    changed = re.search(r"(?:ue|ie)[^aeiou]*$", verb[:-2])
    if verb == "hay":
        return _none_es(f"no {' '.join(words)}")
    if len(verb) > 3 and (verb.endswith("an") or verb.endswith("en") and changed):
        stem = re.sub(r"ue([^aeiou]*)$", r"o\1", verb[:-2])
        stem = re.sub(r"ie([^aeiou]*)$", r"e\1", stem)
        words[start] = stem + ("amos" if verb.endswith("an") else "emos")
        if start == 1 and fold(words[0]) == "me":
            words[0] = "le"
        return _none_es(f"no {' '.join(words)}")
    return None


def _none_es(text: str) -> str:
    """After "no", "algún", "alguna", "algo" become "ningún", "ninguna", "nada"."""
    return re.sub(r"\b\w+\b", lambda m: _NONE_ES.get(m.group(0).lower(), m.group(0)), text)


def _elided(word: str) -> str:
    return "n'" if _VOWEL_START.match(word) else "ne "


def _said_back(words: list[str]) -> list[str]:
    """The customer's "mon", "ma", "mes", "me", "m'" as the desk says them back ("votre", "vos", "vous")."""
    words = [_POSSESSIVE_FR.get(w.lower(), w) for w in words]
    return [re.sub(r"^m['’]", "vous ", w) if w.lower().startswith(("m'", "m’")) else w for w in words]


def _partitive(text: str) -> str:
    return _PARTITIVE.sub(lambda m: "pas d'" if _VOWEL_START.match(m.group(1)) else "pas de ", text)


def _negate_fr(clause: str) -> str | None:
    clause = _EST_CE_QUE.sub("", clause).strip()
    words = _lower_first([_FRENCH_PARTICLE.sub("", w) if "-" in w else w for w in clause.split()])
    if not words:
        return None
    first = fold(words[0])
    if first in ("vous", "tu") and len(words) > 1 or fold(words[0]).endswith("ez") and len(words) > 1:
        # "vous livrez au Québec" / "livrez-vous au Québec" -> "nous ne livrons pas au Québec"
        index = 1 if first in ("vous", "tu") else 0
        verb = words[index]
        if not fold(verb).endswith("ez"):
            return None
        return _partitive(" ".join(["nous", _elided(verb) + verb[:-2] + "ons", "pas", *_said_back(words[index + 1:])]))
    if first in ("je", "j'") or words[0].lower().startswith(("j'", "j’")):
        if words[0].lower().startswith(("j'", "j’")) and len(words[0]) > 2:
            words = [words[0][2:], *words[1:]]
        else:
            words = words[1:]
        if not words:
            return None
        verb = fold(words[0])
        second = _FIRST_PERSON_FR.get(verb) or (words[0][:-1] + "ez" if verb.endswith("e") and len(verb) > 3
                                                else None)
        if second is None:
            return None
        return _partitive(" ".join(["vous", _elided(second) + second, "pas", *_said_back(words[1:])]))
    if first in _WORDS["subject_plural"]["fr"] or first in ("ils", "elles", "il", "elle", "on", "ca", "ça"):
        # "les cartes-cadeaux expirent" -> "les cartes-cadeaux n'expirent pas"
        plural = first not in ("il", "elle", "on", "ca", "ça")
        for i in range(1, len(words)):
            word = fold(words[i])
            if word in _WORDS["function"]["fr"]:
                continue
            if (plural and re.fullmatch(r"[a-z]+(?:ent|ont)", word)) or (not plural and i == 1):
                return _partitive(" ".join([*words[:i], _elided(words[i]) + words[i], "pas", *words[i + 1:]]))
        return None
    if words[0].lower() in ("c'est", "c’est"):
        return " ".join(["ce n'est pas", *words[1:]])
    return None
