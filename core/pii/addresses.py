"""Postal addresses by rule, next to the learned detector (``core.pii.ner``, which also reads post-office boxes and
lines without a street type): street lines with a known street type and a house number (US/CA English, French,
Spanish).

A street line ("2217, rue Beaubien Est, app. 3", "742 Evergreen Terrace Apt 4B", "C/ Mayor 12, 3º B") is found
from its street type and house number; the span then grows over what usually follows it on the same line: city,
province or state, postal code, country.

``find_addresses`` (what other parts of the product call) gives the rule's and the learned detector's addresses
together; ``detect`` runs the learned detector itself and takes the rule's street lines only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .patterns import CA_POSTAL, US_STATES
from .spans import Label, Span, merge_spans

_CAP = r"[A-ZÀ-Ý0-9][\w'’.-]*"
_NAMEWORD = (r"(?:[A-ZÀ-Ý0-9][\w'’.-]*|de|du|des|la|le|les|l'|l’|d'|d’|of|the|del|los|las|el|y|sur|en|aux|au|saint"
             r"|sainte)")

EN_TYPES = (r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|crescent|cres|place|pl"
            r"|terrace|terr|ter|parkway|pkwy|highway|hwy|circle|cir|trail|trl|square|sq|row|close|grove|gardens|gdns"
            r"|heights|hts|park|line|sideroad|concession|point|pt|path|alley|loop|run|bend|plaza|mews|walk|green"
            r"|gate|ridge|hill|view|landing|commons|pike|route|rte|quay|wharf|esplanade|promenade|boardwalk|crossing"
            r"|causeway|expressway|freeway|turnpike)")
EN_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?"
UNIT = (r"(?i:apt|apartment|app|appartement|unit|suite|ste|bureau|local|logement|porte|door|floor|fl|étage|etage"
        r"|piso|planta|puerta|pta|esc|escalera|bloque|portal|dpto|depto|departamento|int|interior|#)\.?\s*[#nº°]*\s*[\w-]{1,6}"
        r"(?:\s*[º°ª](?:\s?[A-Za-z]\b)?)?")
FR_TYPES = (r"(?i:rue|avenue|av|boulevard|boul|bd|blvd|chemin|ch|place|pl|all[ée]e|impasse|route|rte|rang|mont[ée]e"
            r"|quai|cours|square|promenade|croissant|terrasse|c[ôo]te|carr[ée]|parc|passage|voie|sentier|rond-point"
            r"|autoroute|esplanade|faubourg|fg|cit[ée]|lotissement|hameau|lieu-dit|villa|mail|traverse)")
ES_TYPES = (r"(?i:calle|c/|cl|avenida|avda|av|paseo|p[º°]|plaza|pza|pl|camino|cno|carretera|ctra|ronda|traves[íi]a"
            r"|glorieta|rambla|v[íi]a|carrer|carrera|urbanizaci[óo]n|urb|pasaje|psje|callej[óo]n|alameda|bulevar"
            r"|cuesta|costanilla|colonia|col|privada|cerrada|calzada|circuito|andador|ribera)")

FR_DIRECTION = r"(?:Est|Ouest|Nord|Sud|E|O|N|S)\.?"
_NUMBER = r"\d{1,6}[A-Za-z]?(?:\s?(?:bis|ter))?(?:-\d{1,6}[A-Za-z]?)?"

_NOT_STREET = (r"(?!(?:Thanks|Thank|Merci|Gracias|Please|SVP|I|Je|Yo|It|Il|Elle|And|Et|But|Mais|Pero|The|My|Mon|Ma"
               r"|Mi|Can|Could|Is|Est|Es|Where|Où|When|Also|Aussi|Order|Commande|Pedido)\b)")
_STREET_WORD = rf"{_NOT_STREET}[A-ZÀ-Ý0-9][\w'’.-]*"
EN_STREET = re.compile(
    rf"(?<![\w-])(?:{UNIT}\s*[,-]\s*)?{_NUMBER},?\s+(?:{EN_DIRECTION}\s+)?(?:{_STREET_WORD}\s+){{1,4}}"
    rf"(?:{EN_TYPES})\b\.?(?:\s+{EN_DIRECTION}(?!\w))?(?:\s*,?\s*{UNIT}(?!\w))?")
FR_STREET = re.compile(
    rf"(?<![\w-])(?:{UNIT}\s*[,-]\s*)?{_NUMBER},?\s+(?:{FR_TYPES})\.?\s+(?:{_NOT_STREET}{_NAMEWORD}[\s-]+){{0,4}}"
    rf"{_NOT_STREET}{_CAP}"
    rf"(?:\s+{FR_DIRECTION}(?!\w))?(?:\s*,?\s*{UNIT}(?!\w))?", re.UNICODE)
ES_STREET = re.compile(
    rf"(?<!\w)(?:{ES_TYPES})\.?\s+(?:{_NAMEWORD}\s+){{0,4}}?{_CAP},?\s*(?:n[º°o]\.?|n[úu]m\.?|n[úu]mero|#)?\s*"
    rf"\d{{1,5}}[A-Za-z]?(?:-\d{{1,4}})?(?!\d)(?:\s*,?\s*(?:{UNIT}|\d{{1,2}}\s?[º°ª]\s?(?:[A-Za-z](?!\w)|(?i:izq(?:da)?\.?|izda\.?|dcha\.?"
    rf"|der(?:echa)?\.?|izquierda))?|s/n)(?!\w)){{0,3}}")
_MX_ES_AREA = (r"(?:Col\.?|Colonia|Fracc\.?|Fraccionamiento|Barrio|Bo\.|Urb\.?|Urbanizaci[óo]n|Pol\.?|Pol[íi]gono"
               r"|succ\.?|succursale|Stn\.?|Station|RR\s?\d+|C\.?\s?P\.?\s?\d{4,5}|CP\s?\d{4,5})"
               r"(?:\s+[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){0,3})?")
# What may follow a street line on the same line: ", City", ", QC", "(Québec)", postal code, country.
_TAIL_PART = re.compile(
    rf"\s*,?\s*(?:{_MX_ES_AREA}|(?:A|O|La|El|Las|Los|Le|Les|L'|L’)\s[A-ZÀ-Ý][\w'’-]+|[A-Z]\.[A-Z]\."
    rf"|(?:Pte|Ote|Nte|Sur|Poniente|Oriente|Norte)\.?(?!\w)|\((?:[A-ZÀ-Ý][\w'’. -]{{1,25}})\)|{CA_POSTAL.pattern}"
    rf"|\d{{5}}(?:-\d{{4}})?|(?:{US_STATES})\b"
    r"|(?:QC|ON|BC|AB|MB|SK|NS|NB|NL|PE|YT|NT|NU|CDMX|D\.F\.|Edomex)\b"
    r"|[A-ZÀ-Ý][\w'’-]+(?:[ -](?:de|du|la|le|sur|del|de la)?\s?[A-ZÀ-Ý][\w'’-]+){0,3})"
)
_STOP_TAIL = re.compile(r"^(?:Thanks|Thank|Merci|Gracias|Please|SVP|Por|I|Je|Yo|It|Il|Elle|And|Et|But|Mais|Pero|The"
                        r"|My|Mon|Ma|Mi|Can|Could|Pouvez|Puede|Puedes|Is|Est|Es|Where|Où|Dónde|When|Quand|Cuándo"
                        r"|Also|Aussi|También|Order|Commande|Pedido|Tracking|Email|Phone)\b")


def grow(text: str, end: int) -> int:
    """Extend an address over the city / province / postal code / country that follow it."""
    parts = 0
    while parts < 5:
        m = _TAIL_PART.match(text, end)
        if not m:
            break
        piece = m.group().lstrip(" ,")
        if _STOP_TAIL.match(piece) or "\n" in m.group():
            break
        stop = re.search(r"[ -]" + _STOP_TAIL.pattern[1:], piece)
        if stop:  # "Madrid Mi IBAN": keep the city, not the sentence that follows
            cut = m.end() - (len(piece) - stop.start())
            end, parts = cut, parts + 1
            break
        if not m.group().lstrip(" ").startswith((",", "(")) and parts == 0 and not re.match(
                rf"\s*(?:{CA_POSTAL.pattern}|\d{{5}}|\(|(?:{US_STATES}|QC|ON|BC)\b|(?:Pte|Ote|Nte|Sur|Poniente"
                r"|Oriente|Norte)\.?(?!\w))", m.group()):
            break
        end = m.end()
        parts += 1
    return end


def find_street_lines(text: str, lang: str | None = None) -> Iterator[Span]:
    """Street lines by rule (``detect`` runs the learned detector next to them)."""
    if not re.search(r"\d", text):
        return
    for pattern in (FR_STREET, EN_STREET, ES_STREET):
        for m in pattern.finditer(text):
            end = m.end()
            while end > m.start() and text[end - 1] in " ,":
                end -= 1
            yield Span(m.start(), grow(text, end), Label.ADDRESS, "address")


def find_addresses(text: str, lang: str | None = None) -> list[Span]:
    """Every postal address in ``text``: the street lines by rule and the addresses the learned detector reads
    (French street lines, post-office boxes, lines without a street type), overlapping ones merged."""
    from .ner import find_learned

    spans = [*find_street_lines(text, lang), *(s for s in find_learned(text, lang) if s.label == Label.ADDRESS)]
    return merge_spans(spans, text)
