"""The rendered page in headless Chromium: table renders, sorting, filters, no console errors.

Needs Debian's chromium at /usr/bin/chromium (install with `tools/ensure_chromium.sh`; `make test`
runs it). Saves a screenshot to `test-artifacts/leaderboard.png`.
"""

from __future__ import annotations

import pytest

from behaviorbench.leaderboard.render import render
from behaviorbench.leaderboard.rows import collect_rows
from tests.leaderboard.browser import chromium_page
from tests.leaderboard.test_render import make_store

pytestmark = pytest.mark.browser


@pytest.fixture
def page_url(tmp_path):
    store = make_store(tmp_path)
    rows = collect_rows(store)
    index = render(rows, tmp_path / "site")
    return index.resolve().as_uri(), store


def test_page_in_headless_chromium(page_url, artifact_dir):
    url, store = page_url
    ids = {e.model: e.id for e in store.entries()}
    problems: list[str] = []
    with chromium_page(url, problems) as page:
        table = page.locator("section#ds-terrain-test table.lb")
        assert table.locator("tbody tr").count() == 3
        assert page.locator("section.dataset").count() == 3  # ours + two published
        assert page.locator("section svg").count() >= 3

        def order():
            return table.locator("tbody tr").evaluate_all(
                "rs => rs.map(r => r.getAttribute('data-key'))"
            )

        th = table.locator("th[data-task='terrain_type']")
        th.click()  # F1: higher is better -> best first = descending
        assert th.get_attribute("aria-sort") == "descending"
        assert order() == [ids["bams"], ids["raw"], ids["pca"]]
        th.click()
        assert th.get_attribute("aria-sort") == "ascending"
        assert order() == [ids["pca"], ids["raw"], ids["bams"]]
        bm = table.locator("th[data-task='body_mass']")
        bm.click()  # MSE: lower is better -> ascending; raw has no score -> last
        assert bm.get_attribute("aria-sort") == "ascending"
        assert order() == [ids["bams"], ids["pca"], ids["raw"]]

        page.select_option("#filter-model", "pca")
        visible = table.locator("tbody tr:not(.hidden)")
        assert visible.count() == 1
        assert visible.first.get_attribute("data-key") == ids["pca"]
        assert page.locator("#row-count").inner_text() == "1 row shown"
        page.select_option("#filter-model", "")
        page.select_option("#filter-dataset", "terrain-test")
        assert page.locator("section.dataset:not(.hidden)").count() == 1
        assert page.locator("#row-count").inner_text() == "3 rows shown"
        page.select_option("#filter-dataset", "")
        page.uncheck("#filter-published")
        assert page.locator("tr[data-published='1']:not(.hidden)").count() == 0
        page.check("#filter-published")
        assert page.locator("tr[data-published='1']:not(.hidden)").count() == 7
        th.click()  # leave the terrain table sorted best-first for the screenshot
        assert order() == [ids["bams"], ids["raw"], ids["pca"]]
        page.screenshot(path=str(artifact_dir / "leaderboard.png"), full_page=True)
    assert problems == []
    assert (artifact_dir / "leaderboard.png").stat().st_size > 10_000
