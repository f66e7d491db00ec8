"""Validated patterns: e-mails, phones (``phonenumbers``), cards (Luhn), IBAN (mod 97), IPs, money amounts, postal
codes, and order / ticket / tracking / customer / device ids — by format, or by the words that introduce them in
English, French and Spanish.

Each ``find_*`` takes the text and returns ``Span`` objects; ``find_patterns`` runs them all.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import phonenumbers

from .checksums import iban_ok, luhn_ok
from .spans import Label, Span

_I = re.IGNORECASE

EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}(?:@|\s?[\[(]at[\])]\s?)[\w-]{1,63}(?:(?:\.|\s?[\[(]dot[\])]\s?)[\w-]{1,63})*"
    r"(?:\.|\s?[\[(]dot[\])]\s?)[A-Za-z]{2,24}(?![\w-])",
    _I,
)

# Numbers introduced by a label: "(label) (no|#|number|:)? <id>". The id must hold digits.
_NUM_WORD = (r"(?:\s*(?:number|num(?:é|e)ro|n[úu]mero|num\.?|no\.?|n[°ºo]\.?|n\.\s?º|nr\.?|id|code|c[óo]digo|ref\.?"
             r"|is|es|est|was|era|[ée]tait|le|el|#|:)\s*)*")
_ID = r"#?(?=[A-Z0-9-]*\d)[A-Z0-9](?:[A-Z0-9]|[-/](?=[A-Z0-9])){2,29}"
_ID_SPACED = r"#?(?=[A-Z0-9 -]*\d{3})(?=[A-Z]*\d)[A-Z0-9]{2,}(?:[ -](?=[A-Z]*\d)[A-Z0-9]{2,}){0,6}"


def _cued(words: str, id_pattern: str = _ID) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{words})\b{_NUM_WORD}\s*(?P<id>{id_pattern})(?![\w@])", _I)


ORDER_CUE = _cued(r"orders?|commandes?|pedidos?|[óo]rden(?:es)?|purchases?|achats?|compras?|facturas?|invoices?"
                  r"|factures?|confirmation")
TICKET_CUE = _cued(r"tickets?|cases?|incidents?|requests?|claims?|r[ée]clamations?|billets?|dossiers?|demandes?"
                   r"|requ[êe]tes?|casos?|incidencias?|reclamaci[óo]n|solicitud|reclamos?|r[ée]f[ée]rences?|ref"
                   r"|r[ée]f|referencias?|folio|expediente|plainte|RMA|return authori[sz]ation|autorisation de retour"
                   r"|autorizaci[óo]n de devoluci[óo]n|ticket de soporte")
CUSTOMER_CUE = _cued(r"customer|client(?:e|a)?|account|compte|cuenta|member(?:ship)?|membre|adh[ée]rent|socio|socia"
                     r"|abonn[ée]e?|subscriber|user|usuario|utilisateur|loyalty|fid[ée]lit[ée]|fidelidad|carte membre"
                     r"|rewards?|points card")
TRACKING_CUE = _cued(r"tracking|track|suivi|rep[ée]rage|seguimiento|rastreo|gu[íi]a|waybill|airwaybill|AWB"
                     r"|colis|parcel|package|paquete|env[íi]o|shipment|exp[ée]dition|envoi|lettre de transport"
                     r"|localizador|UPS|USPS|FedEx|DHL(?: Express)?|Canada Post|Postes Canada|Purolator"
                     r"|Correos(?: Express)?|Chronopost|Colissimo|La Poste|GLS|SEUR|MRW|Estafeta|Canpar|Intelcom"
                     r"|OnTrac|LaserShip",
                     _ID_SPACED)
DEVICE_CUE = _cued(r"serial|s/n|sn|n[°º] de s[ée]rie|num[ée]ro de s[ée]rie|s[ée]rie|n[úu]mero de serie|serie"
                   r"|device(?: id)?|appareil|dispositivo|IMEI|MEID|UDID|android id|IDFA|IDFV|advertising id"
                   r"|hardware id|identifiant (?:de l'|d')appareil|id del dispositivo|id de l'appareil|mac",
                   r"(?=[A-Z0-9:-]*\d)[A-Z0-9](?:[A-Z0-9]|[:-](?=[A-Z0-9])){5,40}")

UPS = re.compile(r"\b1Z[0-9A-Z]{16}\b", _I)
USPS = re.compile(r"\b(?:9[1-5]\d{2}|82\d{2})(?:\s?\d{4}){4}\s?\d{2,6}\b")
S10 = re.compile(r"\b[A-Z]{2}\s?\d{3}\s?\d{3}\s?\d{3}\s?(?:US|CA|ES|FR|GB|DE|CN|MX|NL|BE|CH|IT|PT|JP|AU)\b")
DHL_ECOM = re.compile(r"\b(?:GM\d{16,18}|JJD\d{10,20}|JVGL\d{8,20}|LX\d{9}DE|3S[A-Z]{4}\d{7,9})\b", _I)
CANADA_POST = re.compile(r"\b\d{4}\s?\d{4}\s?\d{4}\s?\d{4}\b")

TICKET_FORMAT = re.compile(r"\b(?:ZD|TKT|TK|TCK|CS|INC|REQ|SR|SUP|CASE|CP|RMA|RET|CLM|DOS|EXP|SAV|INC)[-#]?\d"
                           r"[\dA-Z-]{2,20}\b")
MAC = re.compile(r"\b[0-9A-F]{2}(?:([:-])[0-9A-F]{2})(?:\1[0-9A-F]{2}){4}\b", _I)
UUID = re.compile(r"(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])", _I)
TOKEN_PREFIX = re.compile(r"token[\s_-]*$", _I)
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", _I)
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
CARD_CUE = re.compile(r"\b(?:card|carte|tarjeta|visa|mastercard|amex|cr[ée]dit|d[ée]bit)\b", _I)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b")
IBAN_CUE = re.compile(r"\b(?:IBAN|RIB|cuenta|compte|account)\b", _I)

_CURRENCY_BEFORE = r"(?:US\s?\$|CA\s?\$|C\$|A\$|MX\$|\$|€|£|¥|(?:CAD|USD|EUR|GBP|MXN|CHF)\s?)"
_CURRENCY_AFTER = (r"(?:\s?(?:(?:US|CA|C|A|MX)\$|\$\s?(?:CA|CAD|US|USD)?|€|£|CAD|USD|EUR|GBP|MXN|CHF)"
                   r"|\s(?:dollars?|d[óo]lares|euros?|pesos|bucks|cents?|centimes|c[ée]ntimos|livres?))")
_NUMBER = r"\d{1,3}(?:(?:[,.\u00a0\u202f]|\s(?=\d{3}\b))\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
AMOUNT = re.compile(rf"(?<![\w.,]){_CURRENCY_BEFORE}\s?(?:{_NUMBER})(?![\d])(?:\s?(?:CAD|USD|MXN|EUR|CA|US)\b)?"
                    rf"|(?<![\w.,])(?:{_NUMBER}){_CURRENCY_AFTER}"
                    r"(?![\w])", _I)

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    r"|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|a hundred"
    r"|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente"
    r"|quarante|cinquante|soixante|cent|cents|mille"
    r"|uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|dieciséis|veinte"
    r"|veinti\w+|treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|ciento|doscientos|quinientos|mil"
)
AMOUNT_WORDS = re.compile(
    rf"\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:and|et|y|-)?[\s-]*(?:{_NUMBER_WORDS}))*\s+(?:dollars?|bucks|euros?|pesos"
    r"|dólares|dolares|livres?|pounds?)\b", _I)
CA_POSTAL = re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ -]?\d[ABCEGHJ-NPRSTV-Z]\d\b", _I)
US_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND"
             "|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY")
ZIP_AFTER_STATE = re.compile(rf"\b(?:{US_STATES})\.?,?\s+(?P<id>\d{{5}}(?:-\d{{4}})?)\b")
ZIP_PLUS4 = re.compile(r"\b\d{5}-\d{4}\b")
POSTAL_CUE = re.compile(r"\b(?:zip(?:\s?code)?|postal code|post code|code postal|c[óo]digo postal|C\.?P\.?)\s*:?\s*"
                        r"(?P<id>\d{5}(?:-\d{4})?|[A-Z]\d[A-Z][ -]?\d[A-Z]\d)\b", _I)
CITY_AFTER_CODE = re.compile(r"(?<![\w-])(?:F-|E-)?\d{5}(?=\s+[A-ZÀ-Ý][a-zà-ÿ])")

# Any other id-like run: 5+ digits (grouped or not) or an upper-case code holding 3+ digits.
LONG_NUMBER = re.compile(r"(?<![\w.,])\d{2,}(?:[ -]\d{3,})*(?![\w]|[.,]\d)")
CODE = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d[A-Z0-9-]*\d[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)*"
                  r"(?![\w-])")
DATE_LIKE = re.compile(r"^(?:19|20)\d{2}[-/]\d{1,2}[-/]\d{1,2}$|^\d{1,2}[-/]\d{1,2}[-/](?:19|20)?\d{2}$")

PHONE_REGIONS = {"en": ("US", "CA", "GB"), "fr": ("CA", "FR", "BE", "CH"), "es": ("ES", "MX", "US", "AR", "CO")}
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{6,20}\d(?![\w])")


def _group(match: re.Match[str], name: str = "id") -> tuple[int, int]:
    return match.span(name)


EMAIL_SPELLED = re.compile(r"(?<![\w.+-])[\w.+-]{2,64}\s+(?:at|arobase|arroba)\s+[\w-]{2,63}"
                           r"(?:\s+(?:dot|point|punto)\s+[\w-]{2,63})*\s+(?:dot|point|punto)\s+[a-z]{2,6}\b", _I)
PHONE_EXTENSION = re.compile(r"\s*,?\s*(?:ext\.?|extension|extensi[óo]n|x|poste|p\.|int\.?|interno)\s*\d{1,6}\b", _I)


def find_emails(text: str) -> Iterator[Span]:
    for m in EMAIL.finditer(text):
        if "@" in m.group() or re.search(r"[\[(]at[\])]", m.group(), _I):
            yield Span(m.start(), m.end(), Label.EMAIL)
    for m in EMAIL_SPELLED.finditer(text):
        yield Span(m.start(), m.end(), Label.EMAIL)


def find_phones(text: str, lang: str | None) -> Iterator[Span]:
    if not _PHONE_CANDIDATE.search(text):
        return
    regions = PHONE_REGIONS.get((lang or "en")[:2], ("US",))
    seen: set[tuple[int, int]] = set()
    for region in dict.fromkeys((*regions, "US", "CA", "FR", "ES")):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            key = (match.start, match.end)
            if match.start and (text[match.start - 1].isalnum() or text[match.start - 1] in "-/"):
                continue  # inside a code such as "CS-2026-00418"
            if ZIP_PLUS4.fullmatch(match.raw_string) or DATE_LIKE.match(match.raw_string):
                continue
            if key not in seen:
                seen.add(key)
                extension = PHONE_EXTENSION.match(text, match.end)
                yield Span(match.start, extension.end() if extension else match.end, Label.PHONE)
    # Possible (not necessarily assigned) numbers written the way phone numbers are: "+" / "00", or grouped digits.
    for m in _PHONE_CANDIDATE.finditer(text):
        raw = m.group()
        if any(s <= m.start() < e or s < m.end() <= e for s, e in seen):
            continue
        if not (raw.startswith(("+", "00", "(")) or re.search(r"\d[\s.\-/]\d", raw)):
            continue
        if m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "-/"):
            continue
        if ZIP_PLUS4.fullmatch(raw) or (not raw.startswith(("+", "00", "(")) and len(re.sub(r"\D", "", raw)) < 10
                                         and len(re.findall(r"[\s.\-/]", raw)) < 2):
            continue
        for region in regions:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number) and len(re.sub(r"\D", "", raw)) >= 9:
                extension = PHONE_EXTENSION.match(text, m.end())
                yield Span(m.start(), extension.end() if extension else m.end(), Label.PHONE)
                break


_IMEI_CUE = re.compile(r"\b(?:IMEI|MEID|serial|s[ée]rie|device|appareil|dispositivo)\b", _I)


def find_cards(text: str) -> Iterator[Span]:
    for m in CARD.finditer(text):
        raw = m.group()
        if _IMEI_CUE.search(text, max(0, m.start() - 25), m.start()):
            continue
        if luhn_ok(raw) or CARD_CUE.search(text, max(0, m.start() - 40), m.start()):
            if len(re.sub(r"\D", "", raw)) >= 13:
                yield Span(m.start(), m.end(), Label.CARD)


def find_ibans(text: str) -> Iterator[Span]:
    for m in IBAN.finditer(text):
        raw = m.group()
        # The checksum tells where an IBAN ends when words or numbers follow it.
        end = next((m.start() + len(raw[:k]) for k in range(len(raw), 14, -1) if iban_ok(raw[:k])), None)
        if end is None and IBAN_CUE.search(text, max(0, m.start() - 30), m.start()):
            end = m.end()
        if end is not None:
            yield Span(m.start(), end, Label.IBAN)


def find_ips(text: str) -> Iterator[Span]:
    for m in IPV4.finditer(text):
        if all(int(part) <= 255 for part in m.group().split(".")):
            yield Span(m.start(), m.end(), Label.IP_ADDRESS)
    if text.count(":") >= 2:
        for m in IPV6.finditer(text):
            raw = m.group()
            if raw.count(":") < 2 or not re.search(r"[0-9a-f]", raw, _I):
                continue
            try:
                ipaddress.IPv6Address(raw)
            except ValueError:
                continue
            yield Span(m.start(), m.end(), Label.IP_ADDRESS)


def find_amounts(text: str) -> Iterator[Span]:
    for m in AMOUNT.finditer(text):
        yield Span(m.start(), m.end(), Label.AMOUNT)
    for m in AMOUNT_WORDS.finditer(text):
        yield Span(m.start(), m.end(), Label.AMOUNT)


def find_postal_codes(text: str) -> Iterator[Span]:
    for m in CA_POSTAL.finditer(text):
        raw = m.group()
        # Lower-case candidates only with the space/dash that postal codes are written with ("h2g 1m9").
        if raw.isupper() or re.search(r"[ -]", raw):
            yield Span(m.start(), m.end(), Label.POSTAL_CODE)
    for pattern in (ZIP_AFTER_STATE, POSTAL_CUE):
        for m in pattern.finditer(text):
            yield Span(*_group(m), Label.POSTAL_CODE)
    for pattern in (ZIP_PLUS4, CITY_AFTER_CODE):
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end(), Label.POSTAL_CODE)


def find_tracking(text: str) -> Iterator[Span]:
    for pattern in (UPS, USPS, S10, DHL_ECOM):
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end(), Label.TRACKING_NUMBER)
    for m in CANADA_POST.finditer(text):
        if not luhn_ok(m.group()) or not CARD_CUE.search(text, max(0, m.start() - 40), m.start()):
            yield Span(m.start(), m.end(), Label.TRACKING_NUMBER)
    for m in TRACKING_CUE.finditer(text):
        start, end = _group(m)
        if sum(c.isdigit() for c in text[start:end]) >= 6:
            yield Span(start, end, Label.TRACKING_NUMBER)


def find_devices(text: str) -> Iterator[Span]:
    for m in MAC.finditer(text):
        yield Span(m.start(), m.end(), Label.DEVICE_ID)
    for m in UUID.finditer(text):
        if not TOKEN_PREFIX.search(text, max(0, m.start() - 8), m.start()):
            yield Span(m.start(), m.end(), Label.DEVICE_ID)
    for m in DEVICE_CUE.finditer(text):
        yield Span(*_group(m), Label.DEVICE_ID)


def find_cued_ids(text: str) -> Iterator[Span]:
    for pattern, label in ((ORDER_CUE, Label.ORDER_NUMBER), (TICKET_CUE, Label.TICKET_ID),
                           (CUSTOMER_CUE, Label.CUSTOMER_ID)):
        for m in pattern.finditer(text):
            start, end = _group(m)
            raw = text[start:end]
            if DATE_LIKE.match(raw) or sum(c.isdigit() for c in raw) < 3:
                continue
            if start and text[start - 1] == "#":
                start -= 1
            yield Span(start, end, label)
    for m in TICKET_FORMAT.finditer(text):
        yield Span(m.start(), m.end(), Label.TICKET_ID)
    for m in re.finditer(r"(?<![\w&])#\s?\d{3,10}\b", text):
        yield Span(m.start(), m.end(), Label.ORDER_NUMBER, "weak")


def find_generic_ids(text: str) -> Iterator[Span]:
    for m in LONG_NUMBER.finditer(text):
        raw = m.group()
        if sum(c.isdigit() for c in raw) >= 5 and not DATE_LIKE.match(raw):
            yield Span(m.start(), m.end(), Label.ID_NUMBER, "weak")
    for m in CODE.finditer(text):
        raw = m.group()
        if len(raw) >= 5 and not DATE_LIKE.match(raw) and not TOKEN_PREFIX.search(text, max(0, m.start() - 8),
                                                                                    m.start()):
            start = m.start() - 1 if m.start() and text[m.start() - 1] == "#" else m.start()
            yield Span(start, m.end(), Label.ID_NUMBER, "weak")


def find_patterns(text: str, lang: str | None = None) -> list[Span]:
    spans: list[Span] = []
    for finder in (find_emails, find_cards, find_ibans, find_ips, find_amounts, find_postal_codes, find_tracking,
                   find_devices, find_cued_ids, find_generic_ids):
        spans.extend(finder(text))
    spans.extend(find_phones(text, lang))
    return spans
