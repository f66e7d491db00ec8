"""The pages the app serves: the customer chat widget, the operator console and the API viewer, with their
scripts and styles (``static/``) and the libraries copied from npm at build time (``vendor/``, by ``make setup``).
Plain files, no external CDN: every asset a page loads comes from the app itself."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = (HERE / "static", HERE / "vendor")
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,80}\.(js|css|svg)$")
MEDIA_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
# The npm files each page needs, copied into vendor/ by `make setup` (and before packaging for Azure).
VENDORED = {"swagger-ui-bundle.js": "swagger-ui-dist", "swagger-ui.css": "swagger-ui-dist"}


@lru_cache(maxsize=64)
def asset(name: str) -> tuple[bytes, str] | None:
    """An asset's bytes and media type, or None for a name that is not one of the served files."""
    match = ASSET_NAME.match(name)
    if not match:
        return None
    for folder in FOLDERS:
        path = folder / name
        if path.is_file() and path.parent == folder:
            return path.read_bytes(), MEDIA_TYPES[match.group(1)]
    return None


@lru_cache(maxsize=8)
def _template(name: str) -> str:
    return (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")


def page(name: str, **values: str) -> str:
    """A page with its ``{{name}}`` placeholders replaced by the HTML-escaped values."""
    text = _template(name)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text
