"""`make screenshots`: the chat widget (at a phone's width) and the operator console (a conversation's trace and
the analytics) in Debian's Chromium, saved to docs/screenshots/*.png for the README.

Runs its own Azurite and local host on free ports with the demo shop imported, has a customer chat in English,
rate a reply and ask for a person, and a support agent answer from the console."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from core.config import load_local_settings
from core.devhost import azurite
from tests.browser.chromium import chromium
from tests.integration.hosting import REPO, HostProcess, free_port, host_env

OUT = REPO / "docs" / "screenshots"


def _ask(page, text: str, replies_before: int) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    page.locator(".msg.assistant").nth(replies_before).wait_for(timeout=60_000)


def capture(base: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    key = os.environ["LOCAL_FUNCTION_KEY"]
    with chromium() as browser:
        widget = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2).new_page()
        widget.goto(f"{base}/api/tenants/demo/widget")
        _ask(widget, "Do you ship to Canada?", 0)
        widget.locator(".msg.assistant").first.get_by_role("button", name="Helpful", exact=True).click()
        _ask(widget, "I want to talk to a human about my order", 1)
        conversation = widget.evaluate("JSON.parse(sessionStorage.getItem('shopdesk:demo')).conversationId")

        console = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        console.goto(f"{base}/api/console")
        console.get_by_label("Function key").fill(key)
        console.get_by_role("button", name="Sign in").click()
        console.get_by_role("button", name="Hand-offs").click()
        console.locator(f"#inbox button[data-conversation='{conversation}']").click()
        console.get_by_label("Your name").fill("Sam")
        console.get_by_label("Reply to the customer").fill("Hi, Sam from the workshop here: your parcel left today.")
        console.get_by_role("button", name="Send reply").click()
        widget.locator(".msg.agent").wait_for(timeout=30_000)
        widget.screenshot(path=OUT / "widget.png")

        console.get_by_role("button", name="Conversations").click()
        console.get_by_role("button", name="Open conversation " + conversation).click()
        console.get_by_role("button", name="Show trace").click()
        console.locator("#trace .timeline").first.wait_for()
        console.screenshot(path=OUT / "console-trace.png", full_page=True)
        console.get_by_role("button", name="Analytics").click()
        console.locator("#charts figure").nth(6).wait_for()
        console.screenshot(path=OUT / "console-analytics.png", full_page=True)
    return [OUT / "widget.png", OUT / "console-trace.png", OUT / "console-analytics.png"]


def main() -> int:
    load_local_settings(REPO / "local.settings.sample.json")
    with tempfile.TemporaryDirectory(prefix="shopdesk-screenshots-") as work:
        work_dir = Path(work)
        ports = (free_port(), free_port(), free_port())
        azurite.start(work_dir / "azurite", *ports)
        host = None
        try:
            (work_dir / "data").mkdir()
            env = host_env(azurite.connection_string(*ports), work_dir / "data")
            subprocess.run([sys.executable, "-m", "core.tenants", "import", "demo",
                            str(REPO / "knowledge/tenants/demo")], cwd=REPO, env=env, check=True,
                           capture_output=True)
            host = HostProcess(env, REPO, "function_app", work_dir / "host.log")
            host.start(timeout=120)
            for path in capture(host.base):
                print(path.relative_to(REPO))
        finally:
            if host is not None:
                host.stop()
            azurite.stop(work_dir / "azurite")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
