"""Debian's Chromium driven by Playwright: the one launch every browser test and the screenshot command use
(Playwright's own browser download is not used; `make setup` installs the `chromium` package when it is missing).
Each launch runs on a fresh temporary user-data-dir that Playwright creates and removes."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium():
    """A running browser; ``browser.new_context()`` opens an isolated session (its own storage and cookies)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make setup` (it installs Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
