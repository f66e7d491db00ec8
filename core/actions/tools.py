"""The order actions as tools: each one's arguments are a pydantic model, whose JSON schema is what a model's
function calling receives (``schemas``) and what every call is validated against, whoever makes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ORDER_NUMBER = r"^#?\d{1,12}$"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: str = Field(pattern=ORDER_NUMBER, description="The order number, e.g. 1038 or #1038.")

    @property
    def number(self) -> str:
        return self.order.lstrip("#")


class CancelOrder(_Args):
    reason: Literal["customer", "inventory", "fraud", "declined", "other"] = Field(
        default="customer", description="Shopify's cancellation reason; a customer's own request is 'customer'.")


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=120)
    address1: str = Field(min_length=3, max_length=200)
    address2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    zip: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)

    def line(self) -> str:
        return ", ".join(p for p in (self.address1, self.address2, self.city, self.province, self.zip, self.country)
                         if p)


class ChangeShippingAddress(_Args):
    address: Address


class ItemChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant_id: str = Field(pattern=r"^\d{1,20}$", description="The product variant.")
    quantity: int = Field(ge=0, le=99, description="The line's new quantity; 0 removes the line.")


class ChangeItems(_Args):
    changes: list[ItemChange] = Field(min_length=1, max_length=10)


RETURN_REASONS = ("unwanted", "defective", "wrong_item", "not_as_described", "size_too_small", "size_too_large",
                  "style", "color", "other")


class ReturnLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_item_id: str = Field(pattern=r"^\d{1,20}$", description="The order line going back.")
    quantity: int = Field(ge=1, le=99)


class StartReturn(_Args):
    items: list[ReturnLine] = Field(min_length=1, max_length=20)
    reason: Literal[RETURN_REASONS] = "other"  # type: ignore[valid-type]


class StartExchange(StartReturn):
    pass


class Refund(_Args):
    amount: str = Field(pattern=r"^\d{1,7}(\.\d{1,2})?$", description="The amount to refund, in the order's currency.")


@dataclass(frozen=True)
class Tool:
    name: str
    args: type[_Args]
    description: str
    event: str  # the CloudEvent type its success emits


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("cancel_order", CancelOrder, "Cancel an order that has not shipped yet.", "shopdesk.orders.changed"),
    Tool("change_shipping_address", ChangeShippingAddress, "Change the delivery address of an order that has not "
         "shipped yet.", "shopdesk.orders.changed"),
    Tool("change_items", ChangeItems, "Add items to, remove items from or change quantities on an order that has "
         "not shipped yet.", "shopdesk.orders.changed"),
    Tool("start_return", StartReturn, "Start a return of delivered items within the shop's return window.",
         "shopdesk.returns.started"),
    Tool("start_exchange", StartExchange, "Start an exchange of delivered items within the shop's return window.",
         "shopdesk.returns.started"),
    Tool("refund", Refund, "Refund part or all of a paid order (above the shop's limit it goes to a person for "
         "approval).", "shopdesk.orders.changed"),
)}


class InvalidArguments(ValueError):
    def __init__(self, tool: str, fields: list[str]):
        super().__init__(f"{tool}: invalid {', '.join(fields) or 'arguments'}")
        self.tool, self.fields = tool, fields


def parse(tool: str, args: dict[str, Any]) -> _Args:
    """The tool's arguments validated against its schema (``InvalidArguments`` names the fields at fault)."""
    spec = TOOLS.get(tool)
    if spec is None:
        raise InvalidArguments(tool, ["tool"])
    try:
        return spec.args.model_validate(args)
    except ValidationError as exc:
        raise InvalidArguments(tool, [".".join(str(p) for p in e["loc"]) for e in exc.errors()]) from None


def schemas() -> list[dict[str, Any]]:
    """The tools in the OpenAI ``tools`` format (function name, description, JSON-schema parameters)."""
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.args.model_json_schema()}} for t in TOOLS.values()]
