"""Critic / supervisor agent: screens the customer's message before the pipeline and the draft reply after it."""

from __future__ import annotations

import re

from core.language import detect as detect_language
from core.models import Draft, InputVerdict, Language, OutputVerdict
from core.text import fold

_INJECTION = [
    r"\bignore (all |any |the )?(previous|prior|above|earlier) (instructions|prompts?|rules)",
    r"\b(disregard|forget) (all |your |the )?(previous |prior )?(instructions|rules|guidelines)",
    r"\b(system|developer) prompt\b",
    r"\byou are now\b|\bact as (an? )?(unrestricted|jailbroken|evil)",
    r"\b(dan|developer) mode\b|\bjailbreak",
    r"\breveal (your|the) (instructions|prompt|configuration|api key)",
    r"\bignore[rz]? (les|toutes les) (instructions|consignes)",
    r"\boublie[rz]? (tes|vos|les) (instructions|consignes)",
    r"\bignora(r)? (las |todas las )?(instrucciones|reglas) (anteriores|previas)",
    r"\bolvida (tus|las) instrucciones",
]
_DATA_EXTRACTION = [
    r"\b(all|every|other) (customers?|clients?|users?)('s)? (orders?|emails?|addresses|phone|data|details)",
    r"\b(list|dump|export|show me) (all )?(the )?(customers?|orders|emails|addresses)\b",
    r"\b(someone|somebody) else'?s (order|address|email|account)",
    r"\b(tous les|les autres) (clients|commandes|courriels)",
    r"\b(todos los|otros) (clientes|pedidos|correos)",
]
_ABUSE = [
    r"\b(fuck(ing)?|shit|bitch|asshole|cunt|moron|idiot|stupid|dumb|useless|pathetic)\b",
    r"\b(tabarnak|calice|câlisse|osti|ostie|crisse|connard|salope|merde)\b",
    r"\b(mierda|pendejo|puta|gilipollas|cabr[oó]n|imb[eé]cil|est[uú]pido|in[uú]til)\b",
    r"\b(stupide|niaiseux|imbécile|con(ne)?s?)\b",
]


def _any(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text, re.I) for p in patterns)


def check_input(message: str, *, locale_language: Language | None, fallback_language: Language,
                max_bytes: int) -> InputVerdict:
    reasons: list[str] = []
    if len(message.encode("utf-8")) > max_bytes:
        reasons.append("oversize")
    folded = fold(message)
    if _any(_INJECTION, message) or _any(_INJECTION, folded):
        reasons.append("prompt_injection")
    if _any(_DATA_EXTRACTION, message) or _any(_DATA_EXTRACTION, folded):
        reasons.append("data_extraction")
    abusive = _any(_ABUSE, message)
    detected, confidence = detect_language(message)
    if locale_language:
        language: Language = locale_language
    elif confidence >= 0.5:
        language = detected  # type: ignore[assignment]
    else:
        language = fallback_language
    # Abuse alone does not block: an angry customer still gets help (and is escalated), but it is recorded.
    blocked = any(r in ("oversize", "prompt_injection", "data_extraction") for r in reasons)
    if abusive:
        reasons.append("abusive_language")
    return InputVerdict(blocked=blocked, reasons=reasons, language=language, language_confidence=confidence)


_TOKEN_RE = re.compile(r"TOKEN_[0-9a-fA-F-]{8,}")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")


def check_output(draft: Draft, *, context_text: str, expected_language: Language,
                 other_customer_values: list[str] | None = None) -> OutputVerdict:
    """Flag unresolved PII tokens, numbers absent from the grounding context, leaks and wrong language."""
    reasons: list[str] = []
    if _TOKEN_RE.search(draft.reply):
        reasons.append("unresolved_token")
    if draft.pii_report:
        reasons.append("foreign_token")  # a token this conversation never issued: never restored, never shown
    context_numbers = {n.replace(",", ".") for n in _NUMBER_RE.findall(context_text)}
    for number in _NUMBER_RE.findall(draft.reply):
        if number.replace(",", ".") not in context_numbers:
            reasons.append(f"ungrounded_number:{number}")
            break
    lowered = fold(draft.reply)
    for value in other_customer_values or []:
        if value and fold(value) in lowered:
            reasons.append("other_customer_data")
            break
    detected, confidence = detect_language(draft.reply)
    if confidence >= 0.6 and detected != expected_language and len(draft.reply) > 40:
        reasons.append(f"wrong_language:{detected}")
    return OutputVerdict(ok=not reasons, reasons=reasons)
