"""Person names in en / fr / es customer messages: the rules kept next to the learned detector (``core.pii.ner``).

The learned detector reads names from their context (introductions, greetings, relations such as "my sister" or "mi
hija", signatures, running text); these rules cover what it reads less surely: titles ("Mr/Mme/Sra", masked with the
name), a connective before a given name ("for Ana"), sign-offs, and capitalised words whose first word is a known
given name (``data/first_names.txt``) followed by capitalised family names. Matching ignores case and accents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from .name_lists import AMBIGUOUS, census_given, family_names, given_names
from .normalize import fold
from .spans import Label, Span

_WORD = re.compile(r"(?:[OoDd]['’]|Mc|Mac)?[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")


PARTICLES = frozenset("de del la las los da das di do dos du des van von der den le y e st st. ste ste. bin ibn al el"
                      .split())

# Capitalised words that follow a given name but are not part of it, and words that never start a name.
NOT_NAME = frozenset(fold(w) for w in """
i i'm i've i'd im the a an and or but thanks thank merci gracias hi hello hey dear bonjour bonsoir salut hola
order orders commande pedido ticket case please svp por favor yes no oui si sí ok okay sorry désolé disculpe
monday tuesday wednesday thursday friday saturday sunday lundi mardi mercredi jeudi vendredi samedi dimanche lunes
martes miércoles jueves viernes sábado domingo january february march july september october november december
janvier février mars avril mai juin juillet août septembre octobre novembre décembre enero febrero marzo abril mayo
junio julio agosto septiembre octubre noviembre diciembre canada post express ups usps fedex dhl correos visa
mastercard amex paypal interac shopify street st avenue ave road rd rue boulevard blvd calle avenida apt app suite
unit quebec québec ontario montreal montréal toronto vancouver madrid barcelona paris lyon mexico méxico usa spain
españa france canada english french spanish français español anglais inglés francés also just here there this that
it's its is was my mon ma mes mi mis your votre su sus our notre nuestro nuestra who what when where why how qui
quoi quand où pourquoi comment quién qué cuándo dónde por para for from with avec con sin sans to à a en in on at
dans sur when best regards cordialement saludos atentamente cheers sincerely love bisous besos abrazos team équipe
equipo service customer client cliente support soporte gift cadeau regalo birthday anniversaire cumpleaños christmas
noël navidad happy joyeux joyeuses feliz hugs wishes merry very much many thanks again hope good great soap savon
jabón bar bars cream crème crema oil huile aceite shampoo kit set box boîte caja lip baume bálsamo candle chandelle
vela body corps cuerpo hand main mano face visage cara
jan feb mar apr jun jul aug sep sept oct nov dec ene abr ago dic janv févr avr juil déc
puerto rico costa hong kong vegas buenos aires scotia brunswick island columbia jersey york zealand arabia emirates
kingdom states america europe europa asia africa canarias baleares andalucía cataluña catalunya galicia manitoba
saskatchewan florida california texas illinois ottawa calgary edmonton winnipeg halifax laval gatineau sherbrooke
sevilla valencia málaga bilbao zaragoza lyon marseille bordeaux toulouse nice guadalajara monterrey
""".split())

CONNECTIVE = re.compile(
    r"\b(?:for|pour|para|to|and|et|y|with|avec|con|from|de|by|par|por|ask|tell|contact|call|dites à|demandez à|demandez"
    r"|pregunten a|llamen a|avisen a)\s+",
    re.IGNORECASE,
)
TITLE = re.compile(
    r"(?<![\w'’])(?:(?:mr|mrs|ms|miss|mx|dr|prof|mme|mmes|mlle|madame|monsieur|messieurs|sr|sra|srta|señor|señora"
    r"|señorita|señores|sres|srs|messrs|don|doña|dra|dre)(?:\.|\b)|(?:M|Me)\.)\s*",
    re.IGNORECASE,
)
SIGN_OFF = re.compile(r"(?:thanks|thank you|thx|ty|tks|many thanks|regards|best regards|best wishes|all the best|best"
                      r"|cheers|sincerely|kind regards|merci beaucoup|merci|bien cordialement|meilleures salutations"
                      r"|sinc[èe]res salutations|saludos cordiales|un cordial saludo|gracias de antemano|merci d'avance"
                      r"|cordialement|salutations|bien à vous|bonne journée|gracias|muchas gracias"
                      r"|saludos|un saludo|atentamente|cordiales saludos|abrazos|bisous|xoxo|love|warmly|take care"
                      r"|bises|un abrazo|besos)\s*[,!.]*\s*(?:[-—–]+\s*)?$|^\s*[-—–]+\s*$|[.!?)]\s*[-—–]+\s*$|\n\s*$",
                      re.IGNORECASE)

# Words after which two capitalised words are a product, a place or an event rather than a person.
THING_WORDS = frozenset(fold(w) for w in """
soap soaps bar bars cream crème crema balm baume bálsamo candle candles chandelle vela set sets kit box coffret
shampoo shampooing champú conditioner oil huile aceite butter beurre manteca lotion mask masque mascarilla scrub
gommage exfoliante serum sérum mist brume bomb bombe salt salts sel sal spray tea thé té blend collection edition
bundle pack lote gift cadeau regalo card carte tarjeta day jour día eve veille week semaine semana sale vente venta
friday monday store shop boutique tienda market marché mercado street st avenue ave road rd boulevard blvd drive lane
way court rue calle avenida paseo plaza airport aéroport aeropuerto station gare estación park parc parque mall
center centre centro hospital university université universidad college school école escuela inc ltd llc gmbh sa
sl corp company compagnie compañía pay express post postes correos bank banque banco app maison fondation
foundation fundación fundacion association asociación asociacion hospice clinic clinique clínica clinica hôpital
hospital church église iglesia spa salon salón hotel hôtel restaurant café cafe team équipe equipo group groupe grupo
""".split())
LOWER_STOP = NOT_NAME | frozenset(fold(w) for w in """
and et y e but mais pero or ou o i je yo me moi and my mon ma mi im am is es est suis soy here ici aquí
calling writing écris escribo email e-mail phone téléphone teléfono number numéro número order commande pedido
about sur sobre regarding concernant with avec con at au del of the le la el los las les un une una uno des
""".split())


class _Word(NamedTuple):
    start: int
    end: int
    text: str
    key: str  # folded, without a trailing period


def _words(text: str) -> list[_Word]:
    out = []
    for m in _WORD.finditer(text):
        word = m.group()
        if word.endswith(".") and fold(word[:-1]) not in PARTICLES:
            word = word[:-1]
        out.append(_Word(m.start(), m.start() + len(word), word, fold(word.rstrip("."))))
    return out


def _capitalised(word: _Word) -> bool:
    """Written like a name: an initial capital, and not an all-capitals acronym unless it is a known name."""
    text = word.text[2:] if word.text[:2] in ("O'", "O’", "D'", "D’") else word.text
    if not text[:1].isupper():
        return False
    if text.isupper() and len(text) > 1:
        return word.key in given_names() or word.key in family_names()
    return True


def _is_given(word: _Word) -> bool:
    names = given_names()
    return word.key in names or word.key.split("-")[0] in names


def _joined(text: str, left: _Word, right: _Word) -> bool:
    gap = text[left.end:right.start]
    return 0 < len(gap) <= 2 and gap.strip() == ""


def _run(text: str, words: list[_Word], i: int, *, allow_lower: bool = False, max_words: int = 4) -> int:
    """Index one past the last word of a name starting at ``words[i]`` (``i`` itself if none)."""
    j, taken = i, 0
    while j < len(words) and taken < max_words:
        word = words[j]
        if j > i and not _joined(text, words[j - 1], word):
            break
        if word.key in PARTICLES and taken:
            nxt = words[j + 1] if j + 1 < len(words) else None
            if nxt and _capitalised(nxt) and _joined(text, word, nxt):
                j += 1
                continue
            break
        if word.key in NOT_NAME or (word.key in LOWER_STOP and not _capitalised(word)):
            break
        if not (_capitalised(word) or allow_lower):
            break
        j += 1
        taken += 1
    while j > i and words[j - 1].key in PARTICLES:
        j -= 1
    return j


def _index_at(words: list[_Word], offset: int) -> int | None:
    for k, word in enumerate(words):
        if word.start >= offset:
            return k if words[k].start - offset <= 1 else None
    return None


def _plausible(words: list[_Word], i: int, j: int) -> bool:
    """A weak cue needs a given name, a known family name, or two capitalised words."""
    if j <= i:
        return False
    if any(_is_given(w) for w in words[i:j]) or any(w.key in family_names() for w in words[i:j]):
        return True
    if any(w.key in census_given() and w.key not in NOT_NAME and w.key not in THING_WORDS for w in words[i:j]):
        return True
    return j - i >= 2


def _given_or_family(words: list[_Word], i: int, j: int) -> bool:
    """After a plain connective ("for", "with", "de"), a name needs a given name that is not an everyday word, or a
    given name followed by a family name."""
    first = words[i]
    if (_is_given(first) or first.key in census_given()) and first.key not in AMBIGUOUS:
        return first.key not in NOT_NAME and first.key not in THING_WORDS
    return j - i >= 2 and (_is_given(first) or first.key in family_names()) and words[i + 1].key in family_names()


_SAINT = frozenset({"san", "santa", "santo", "saint", "sainte", "st", "ste", "sao", "são", "st.", "ste."})


def find_names(text: str, lang: str | None = None) -> Iterator[Span]:
    words = _words(text)
    if not words:
        return
    taken: set[int] = set()

    def emit(i: int, j: int, start: int | None = None) -> Iterator[Span]:
        if j > i and not set(range(i, j)) <= taken:
            taken.update(range(i, j))
            yield Span(words[i].start if start is None else start, words[j - 1].end, Label.PERSON, "name")

    # Cues the learned detector does not read as surely: titles (the title is masked with the name) and a plain
    # connective before a given name ("for", "with", "de").
    for pattern in (TITLE, CONNECTIVE):
        for m in pattern.finditer(text):
            i = _index_at(words, m.end())
            if i is None:
                continue
            j = _run(text, words, i, max_words=4)
            if pattern is CONNECTIVE and not (_plausible(words, i, j) and _given_or_family(words, i, j)):
                continue
            yield from emit(i, j, m.start() if pattern is TITLE else None)

    # Sign-offs: the name right before the end of the message or of a line, after "Thanks," / "Merci," / "—".
    for k, word in enumerate(words):
        if k in taken or not _capitalised(word) or word.key in NOT_NAME:
            continue
        before = text[max(0, word.start - 40):word.start]
        sign_off = SIGN_OFF.search(before.rstrip())
        if sign_off is None:
            continue
        # "Thanks, Name" / "—Name" / a sign-off that starts its own sentence ("svp. merci Zach")
        prefix = before.rstrip()[:sign_off.start()]
        if re.search(r"(?:^|\n|[,!.]\s*|[-—–]\s*)$", before) or re.search(r"(?:^|[.!?,\n])\s*$", prefix) or (
                word.start - 40 <= 0 and not prefix.strip()):
            j = _run(text, words, k, max_words=3)
            rest = text[words[j - 1].end:] if j > k else ""
            at_end = re.fullmatch(r"[\s.!)\]]*", rest) is not None
            if j > k and re.fullmatch(r"[\s.!)\]]*(?:\n[\s\S]*)?", rest) and (
                    _plausible(words, k, j) or (at_end and word.key not in THING_WORDS)):
                yield from emit(k, j)

    # Given names in running text, with the family names after them.
    for k, word in enumerate(words):
        if k in taken or not _is_given(word) or (k and words[k - 1].key in _SAINT and _joined(text, words[k - 1],
                                                                                              word)):
            continue
        if not _capitalised(word) and not (word.text.isupper() and len(word.text) > 1):
            continue
        j = _run(text, words, k, max_words=4)
        if j <= k:
            continue
        if word.key in AMBIGUOUS and not (j - k >= 2 and words[k + 1].key in family_names()):
            continue
        yield from emit(k, j)
