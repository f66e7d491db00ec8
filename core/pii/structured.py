"""Structured data sent to a model: fields marked PII in pydantic models are tokenized whole.

Mark a field with ``pii_field("email")`` or ``Field(json_schema_extra={"pii": "email"})``; the value is the label
(any ``Label`` name, case-insensitive, or an alias such as ``name``/``tracking``/``order``). Unmarked string fields
are still scanned as free text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from .spans import Label

ALIASES = {
    "name": Label.PERSON, "person": Label.PERSON, "email": Label.EMAIL, "phone": Label.PHONE,
    "address": Label.ADDRESS, "postal_code": Label.POSTAL_CODE, "zip": Label.POSTAL_CODE,
    "customer_id": Label.CUSTOMER_ID, "account": Label.CUSTOMER_ID, "order": Label.ORDER_NUMBER,
    "order_number": Label.ORDER_NUMBER, "tracking": Label.TRACKING_NUMBER, "tracking_number": Label.TRACKING_NUMBER,
    "card": Label.CARD, "amount": Label.AMOUNT, "money": Label.AMOUNT, "ticket": Label.TICKET_ID,
    "ticket_id": Label.TICKET_ID, "ip": Label.IP_ADDRESS, "ip_address": Label.IP_ADDRESS, "device": Label.DEVICE_ID,
    "device_id": Label.DEVICE_ID, "iban": Label.IBAN, "id": Label.ID_NUMBER,
}


def pii_field(label: str, default: Any = None, **kwargs: Any) -> Any:
    """``Field`` with PII metadata: ``email: str | None = pii_field("email")``."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["pii"] = label
    return Field(default, json_schema_extra=extra, **kwargs)


def field_label(model: type[BaseModel], name: str) -> str | None:
    info = model.model_fields.get(name)
    extra = info.json_schema_extra if info is not None else None
    if not isinstance(extra, dict) or "pii" not in extra:
        return None
    raw = str(extra["pii"])
    if raw.upper() in Label.__members__:
        return Label[raw.upper()]
    label = ALIASES.get(raw.lower())
    if label is None:
        raise ValueError(f"{model.__name__}.{name}: unknown PII label {raw!r}")
    return label


def marked_values(obj: Any) -> Iterator[tuple[str, str]]:
    """(label, value) of every marked field in a model, recursively through nested models, lists and dicts."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            label = field_label(type(obj), name)
            if label is not None and value not in (None, ""):
                if isinstance(value, list | tuple | set):
                    yield from ((label, str(v)) for v in value if v not in (None, ""))
                else:
                    yield label, str(value)
            elif isinstance(value, BaseModel | list | tuple | dict):
                yield from marked_values(value)
    elif isinstance(obj, list | tuple):
        for item in obj:
            yield from marked_values(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from marked_values(item)


def transform(obj: Any, on_marked, on_text) -> Any:
    """JSON form of ``obj`` with marked values passed through ``on_marked(label, value)`` and other strings
    through ``on_text(value)``."""
    if isinstance(obj, BaseModel):
        out: dict[str, Any] = {}
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            label = field_label(type(obj), name)
            if label is not None and value not in (None, ""):
                if isinstance(value, list | tuple | set):
                    out[name] = [on_marked(label, str(v)) for v in value]
                else:
                    out[name] = on_marked(label, str(value))
            else:
                out[name] = transform(value, on_marked, on_text)
        return out
    if isinstance(obj, list | tuple | set):
        return [transform(v, on_marked, on_text) for v in obj]
    if isinstance(obj, dict):
        return {k: transform(v, on_marked, on_text) for k, v in obj.items()}
    if isinstance(obj, str):
        return on_text(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if obj is None or isinstance(obj, bool | int | float):
        return obj
    return on_text(str(obj))
