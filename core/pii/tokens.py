"""Tokenization: PII spans become ``TOKEN_<uuid4>``; model output is restored from the conversation's mapping.

One ``TokenMap`` per tenant + conversation. The same value (by its normal form: a phone in any format, a name in any
case or accents…) always gets the same token. Restoring tolerates what models do to tokens: case changes,
``TOKEN-…`` / ``token …``, a space inside, quotes or brackets around. A token that is not in this conversation's
map (another conversation's or tenant's, or made up) is never restored: it is reported.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from .known import _address_key
from .normalize import compact, fold
from .spans import Label, Span

TOKEN_PREFIX = "TOKEN_"
# Lenient: "TOKEN_<uuid>", "token-<uuid>", "Token <uuid>", a space or dash anywhere inside, any case.
TOKEN_ECHO = re.compile(r"(?<![a-z0-9])token[\s_\-–:]{0,3}((?:[0-9a-f][\s\-_–]{0,2}){31}[0-9a-f])(?![0-9a-f])",
                        re.IGNORECASE)
_FAMILY = {
    Label.PERSON: "person", Label.ADDRESS: "address", Label.EMAIL: "email", Label.PHONE: "phone",
    Label.AMOUNT: "amount",
}


def normal_key(label: str, value: str) -> str:
    """The normal form two spellings of one value share (so they share one token)."""
    family = _FAMILY.get(label, "id")
    if family == "phone":
        digits_only = re.sub(r"\D", "", value)
        for region in ("US", "FR", "ES"):
            try:
                number = phonenumbers.parse(value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                return f"phone:{number.country_code}{number.national_number}"
        return f"phone:{digits_only}"
    if family == "email":
        return f"email:{value.strip().lower()}"
    if family == "person":
        return "person:" + " ".join(re.split(r"[\s\-.'’]+", fold(value).strip()))
    if family == "address":
        return "address:" + " ".join(_address_key(w) for w in re.findall(r"[^\W_]+", value))
    if family == "amount":
        number = re.sub(r"[^\d.,]", "", value)
        number = re.sub(r"[.,](?=\d{3}(?:\D|$))", "", number).replace(",", ".")
        return f"amount:{number}"
    return f"id:{compact(value).lstrip('#')}"


def canonical_uuid(raw: str) -> str | None:
    hex_digits = re.sub(r"[^0-9a-fA-F]", "", raw).lower()
    if len(hex_digits) != 32:
        return None
    return str(uuid.UUID(hex_digits))


@dataclass
class TokenEntry:
    token: str  # canonical uuid (without the prefix)
    label: str
    value: str  # the first surface form seen: what restoring writes back
    key: str

    def to_json(self) -> dict[str, str]:
        return {"t": self.token, "l": self.label, "v": self.value, "k": self.key}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> TokenEntry:
        return cls(token=data["t"], label=data["l"], value=data["v"], key=data["k"])


@dataclass
class RestoreReport:
    """What restoring found: tokens put back, and tokens that must not be (for the output critic)."""

    restored: int = 0
    altered: list[str] = field(default_factory=list)  # echoed in another form, restored anyway
    foreign: list[str] = field(default_factory=list)  # not this conversation's: left masked, reported

    @property
    def ok(self) -> bool:
        return not self.foreign

    def model_dump(self) -> dict[str, Any]:
        return {"restored": self.restored, "altered": list(self.altered), "foreign": list(self.foreign)}


@dataclass
class TokenMap:
    tenant_id: str
    conversation_id: str
    entries: dict[str, TokenEntry] = field(default_factory=dict)  # token uuid -> entry
    by_key: dict[str, str] = field(default_factory=dict)  # normal key -> token uuid
    dirty: bool = False

    @classmethod
    def from_entries(cls, tenant_id: str, conversation_id: str, entries: list[dict[str, str]]) -> TokenMap:
        mapping = cls(tenant_id, conversation_id)
        for data in entries:
            entry = TokenEntry.from_json(data)
            mapping.entries[entry.token] = entry
            mapping.by_key.setdefault(entry.key, entry.token)
        return mapping

    def to_entries(self) -> list[dict[str, str]]:
        return [e.to_json() for e in self.entries.values()]

    def token_for(self, label: str, value: str) -> str:
        key = normal_key(label, value)
        token = self.by_key.get(key)
        if token is None:
            token = str(uuid.uuid4())
            self.entries[token] = TokenEntry(token, str(label), value, key)
            self.by_key[key] = token
            self.dirty = True
        return TOKEN_PREFIX + token

    def tokenize(self, text: str, spans: list[Span]) -> str:
        out, last = [], 0
        for span in sorted(spans, key=lambda s: s.start):
            if span.start < last:
                continue
            out.append(text[last:span.start])
            out.append(self.token_for(span.label, text[span.start:span.end]))
            last = span.end
        out.append(text[last:])
        return "".join(out)

    def restore(self, text: str, report: RestoreReport | None = None) -> tuple[str, RestoreReport]:
        report = report or RestoreReport()
        if "oken" not in text and "OKEN" not in text:
            return text, report
        out, last = [], 0
        for m in TOKEN_ECHO.finditer(text):
            token = canonical_uuid(m.group(1))
            start, end = m.start(), m.end()
            entry = self.entries.get(token) if token else None
            if entry is None:
                report.foreign.append(m.group())
                continue
            if m.group() != TOKEN_PREFIX + token:
                report.altered.append(m.group())
            out.append(text[last:start])
            out.append(entry.value)
            last = end
            report.restored += 1
        out.append(text[last:])
        return "".join(out), report
