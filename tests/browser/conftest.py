"""Browser fixtures: Debian's Chromium (tests/browser/chromium.py) against the running local host of the session
(tests/conftest.py: the real function_app.py, the demo shop imported)."""

from __future__ import annotations

import pytest

from tests.browser.chromium import chromium


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API runs its own event loop in this thread while the browser is open, and
    tests of other folders that call asyncio.run must not find it running."""
    with chromium() as running:
        yield running


@pytest.fixture
def new_page(browser):
    """Pages in isolated sessions (a customer and an operator do not share storage); closed after the test."""
    contexts = []

    def open_page(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
