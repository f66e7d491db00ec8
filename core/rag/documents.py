"""Parse knowledge documents (Markdown with optional front matter, JSON, text) and Shopify products into KB docs."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

KB_SUFFIXES = {".md", ".markdown", ".txt", ".json"}
RESERVED_FILES = {"tenant.json", "products.json", "orders.json", "customers.json", "readme.md"}


class KnowledgeDocument(BaseModel):
    id: str
    title: str
    content: str
    category: str = "article"
    url: str | None = None
    lang: str = "en"
    translation_of: str | None = None
    source: str = "import"


class DocumentError(ValueError):
    """A knowledge file cannot be read; the message names the file and the problem."""


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def _front_matter(text: str, name: str = "") -> tuple[dict[str, str], str]:
    """YAML front matter (a mapping between ``---`` lines) as strings, and the body after it. Scalars are read as
    written (YAML's base loader: ``lang: no`` is the string "no", never a boolean)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.load(match.group(1), Loader=yaml.BaseLoader)  # only strings, lists, mappings
    except yaml.YAMLError as exc:
        data = _flat_mapping(match.group(1)) if "mapping values are not allowed" in str(exc) else None
        if data is None:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            raise DocumentError(f"{name}: invalid YAML front matter{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DocumentError(f"{name}: front matter must be a mapping of keys to values")
    return {str(k): "" if v is None else str(v).strip() for k, v in data.items()}, text[match.end():]


_FLAT_LINE = re.compile(r"^([A-Za-z_][\w-]*):[ \t]+(.*)$")


def _flat_mapping(block: str) -> dict[str, str] | None:
    """Front matter of one ``key: value`` per line whose values hold ": " unquoted, as French typography writes a
    title ("Les Fêtes 2026 : dates limites"): strict YAML refuses it, every shop means the rest of the line."""
    data: dict[str, str] = {}
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _FLAT_LINE.match(line)
        if not found:
            return None
        value = found.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        data[found.group(1)] = value
    return data


def _lang(value: str | None) -> str:
    value = (value or "en").strip()
    return value if value else "en"


def _from_mapping(item: dict[str, Any], default_id: str, path: Path) -> KnowledgeDocument:
    content = item.get("content") or item.get("body") or item.get("text")
    if not isinstance(content, str) or not content.strip():
        raise DocumentError(f"{path.name}: document {item.get('id', default_id)!r} has no content/body")
    return KnowledgeDocument(
        id=str(item.get("id") or default_id),
        title=str(item.get("title") or item.get("id") or default_id),
        content=content.strip(),
        category=str(item.get("category") or "article"),
        url=item.get("url"),
        lang=_lang(item.get("lang") or item.get("language")),
        translation_of=item.get("translation_of"),
    )


def parse_file(path: Path) -> list[KnowledgeDocument]:
    return parse_bytes(path.name, path.read_bytes())


def parse_bytes(name: str, data: bytes) -> list[KnowledgeDocument]:
    """Documents in one file (Markdown / text / JSON) given its name and raw bytes (a file or a blob)."""
    path = Path(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path.name}: not UTF-8 text") from exc
    stem = path.stem
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{path.name}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
        if isinstance(data, dict) and isinstance(data.get("documents"), list):
            return [_from_mapping(item, f"{stem}-{i}", path) for i, item in enumerate(data["documents"])]
        if isinstance(data, dict):
            return [_from_mapping(data, stem, path)]
        raise DocumentError(f"{path.name}: expected an object or {{'documents': [...]}}")
    meta, body = _front_matter(text, path.name)
    title = meta.get("title")
    heading = re.search(r"^#\s+(.+)$", body, re.M)
    if not title:
        title = heading.group(1).strip() if heading else stem.replace("-", " ").replace("_", " ").capitalize()
    if not body.strip():
        raise DocumentError(f"{path.name}: empty document")
    doc_id, original = meta.get("id") or stem, meta.get("translation_of") or None
    if original and doc_id == original:
        # A translation that repeats its original's id (a common way to write it) is named after its own file.
        doc_id = stem if stem != original else f"{original}.{meta.get('lang') or 'translation'}"
    return [
        KnowledgeDocument(
            id=doc_id,
            title=title,
            content=body.strip(),
            category=meta.get("category") or "article",
            url=meta.get("url") or None,
            lang=_lang(meta.get("lang")),
            translation_of=meta.get("translation_of") or None,
        )
    ]


def iter_knowledge_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in KB_SUFFIXES and p.name.lower() not in RESERVED_FILES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def html_to_text(fragment: str) -> str:
    """The fragment's text, a line for each paragraph, list item and heading; a list ends its paragraph, so the line
    after it does not read as its last item's continuation."""
    text = re.sub(r"<\s*/(ul|ol)\s*>", "\n\n", fragment or "", flags=re.I)
    text = re.sub(r"<\s*(br|/p|/li|/h\d|/div)\s*/?>", "\n", text, flags=re.I)
    text = re.sub(r"<li[^>]*>", "- ", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def variant_availability(variant: dict[str, Any]) -> str:
    """Shopify semantics: untracked inventory is always available; policy 'continue' allows backorders."""
    if not variant.get("inventory_management"):
        return "available"
    if (variant.get("inventory_quantity") or 0) > 0:
        return "in stock"
    return "backorder" if variant.get("inventory_policy") == "continue" else "out of stock"


def product_document(product: dict[str, Any], currency: str, shop_url: str | None = None) -> KnowledgeDocument:
    """A Shopify product as a KB document: description, variants with price and stock, tags."""
    lines = [html_to_text(product.get("body_html") or "")]
    for variant in product.get("variants") or []:
        stock = {"backorder": "out of stock, can be ordered on backorder"}.get(
            variant_availability(variant), variant_availability(variant))
        name = variant.get("title") or "Default"
        sku = f" (SKU {variant['sku']})" if variant.get("sku") else ""
        lines.append(f"Variant {name}{sku}: {variant.get('price')} {currency}, {stock}.")
    if product.get("tags"):
        lines.append(f"Tags: {product['tags']}.")
    if product.get("product_type"):
        lines.append(f"Category: {product['product_type']}.")
    handle = product.get("handle") or str(product.get("id"))
    return KnowledgeDocument(
        id=f"product-{handle}",
        title=str(product.get("title") or handle),
        content="\n".join(line for line in lines if line),
        category="product",
        url=f"{shop_url.rstrip('/')}/products/{handle}" if shop_url else None,
        lang="en",
        source="products.json",
    )
