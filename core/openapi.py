"""OpenAPI 3.1 description of the public HTTP API, generated from the same pydantic models that validate it."""

from __future__ import annotations

from typing import Any

from core.models import ChatRequest, TurnResult

PROBLEM = {
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def build_openapi() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    for model in (ChatRequest, TurnResult):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "ShopDesk customer-service API", "version": "0.1.0"},
        "servers": [{"url": "http://127.0.0.1:7071/api"}],
        "paths": {
            "/tenants/{tenant}/chat": {
                "post": {
                    "summary": "One chat turn: the AI desk's reply, grounded in the shop's data",
                    "parameters": [
                        {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "Idempotency-Key", "in": "header", "required": False,
                         "description": "Retrying with the same key returns the same turn instead of a new one.",
                         "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}},
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
                    "responses": {
                        "200": {"description": "The reply", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/TurnResult"}}}},
                        "202": {"description": "Still working: poll statusQueryGetUri (Durable status URLs)"},
                        "400": _problem("Malformed JSON or header"),
                        "403": _problem("The conversation belongs to another customer"),
                        "404": _problem("Unknown tenant or conversation"),
                        "405": _problem("Wrong method"),
                        "413": _problem("Message or body too large"),
                        "422": _problem("A field is missing or invalid (named in errors[].field)"),
                        "503": _problem("The turn failed; retry later"),
                    },
                }
            },
            "/health": {"get": {"summary": "Liveness and loaded tenants",
                                "responses": {"200": {"description": "ok"}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "ok"}}}},
        },
        "components": {"schemas": schemas},
    }
