"""Opening the rendered page in Debian's headless Chromium (``tools/ensure_chromium.sh`` installs
it; ``make test`` runs that first)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextlib.contextmanager
def chromium_page(url: str, problems: list[str]) -> Iterator[sync_api.Page]:
    """The page at ``url`` in a 1400 x 900 viewport; console errors, page errors and failed
    requests are appended to ``problems``. Fails the test when Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail("chromium missing: run tools/ensure_chromium.sh (as root) first")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"request failed {r.url}"))
            page.goto(url)
            yield page
        finally:
            browser.close()
