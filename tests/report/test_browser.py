"""The real report in a real headless browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import base64
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from chaos.report import write_report

CHROMIUM = Path(os.environ.get("CHAOS_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright not installed (pip install playwright)"
)
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"
    ),
    pytest.mark.timeout(180),
]

# Pixel counts of a screenshot, in the page, from the PNG itself: what a reader sees.
_COUNT_PIXELS = """async ([png, colors]) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const counts = colors.map(() => 0);
  for (let i = 0; i < data.length; i += 4) {
    colors.forEach(([r, g, b], k) => {
      if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 24)
        counts[k]++;
    });
  }
  return counts;
}"""
_FAULT_SHADE = (249, 228, 230)  # rgba(207, 34, 46, .12) over white
_P99_BLUE = (9, 105, 218)  # the first load's line, #0969da

_GEOMETRY = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top + window.scrollY, width: r.width, height: r.height}; };
  return {
    charts: [...document.querySelectorAll('svg.chart')].map(box),
    widest_line: [...document.querySelectorAll('svg.chart')].map((svg) => Math.max(0,
      ...[...svg.querySelectorAll('polyline')].map((l) => l.getBoundingClientRect().width))),
    faults: [...document.querySelectorAll('svg.chart rect.fault-window')].map(box),
    pairs: [...document.querySelectorAll('section.pair')].map((s) => ({
      name: s.dataset.pair,
      sides: [...s.querySelectorAll('article.pair-side')].map((a) => ({
        path: a.dataset.path, box: box(a),
        plots: [...a.querySelectorAll('figure.plot')].map(box)})),
    })),
  };
}"""


@pytest.fixture(scope="module")
def browser() -> Any:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _open(
    browser: Any, journal: dict[str, Any], tmp_path: Path
) -> tuple[Any, Path, list[str], list[str]]:
    """The report of `journal` loaded in a new page; the console's problems and the page's
    requests are collected as it runs."""
    report = tmp_path / "report.html"
    write_report(report, journal)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri(), wait_until="load")
    return page, report, problems, requests


def _pixels(browser: Any, png: str, colors: list[tuple[int, int, int]]) -> list[int]:
    """How many pixels of the base64 PNG `png` have each colour."""
    blank = browser.new_page()
    try:
        counts: list[int] = blank.evaluate(_COUNT_PIXELS, [png, colors])
    finally:
        blank.close()
    return counts


def test_report_renders_in_chromium_without_console_errors(
    browser: Any, journal: dict[str, Any], tmp_path: Path
) -> None:
    page, report, problems, requests = _open(browser, journal, tmp_path)

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    geometry = page.evaluate(_GEOMETRY)
    first_latency = page.locator(
        "section.pair article.pair-side[data-path=sync] svg.chart-latency"
    ).first
    chart_png = base64.b64encode(first_latency.screenshot()).decode()
    page.close()

    assert problems == []
    assert requests == [report.as_uri()], "the page fetched something besides itself"
    expected = sum(2 + len(e["timeline"]["probes"]) for e in journal["experiments"])
    assert len(geometry["charts"]) == expected
    for chart in geometry["charts"]:
        assert chart["width"] > 300 and chart["height"] > 100, chart
    # Every chart drew a line across a good part of its plot (gaps split some lines).
    assert min(geometry["widest_line"]) > 50, geometry["widest_line"]
    assert geometry["faults"] and all(f["width"] > 10 for f in geometry["faults"])

    assert [p["name"] for p in geometry["pairs"]] == ["latency", "partition"]
    for pair in geometry["pairs"]:
        # In run order: the sample's async experiments run before its sync ones.
        assert [side["path"] for side in pair["sides"]] == ["async", "sync"]
        for left, right in itertools.pairwise(pair["sides"]):
            assert left["box"]["left"] + left["box"]["width"] <= right["box"]["left"]
            assert abs(left["box"]["top"] - right["box"]["top"]) < 1
            # The same chart of every side on the same row, to compare at a glance.
            assert abs(left["plots"][0]["top"] - right["plots"][0]["top"]) < 1

    shade, blue = _pixels(browser, chart_png, [_FAULT_SHADE, _P99_BLUE])
    # The sync latency chart: a fault window a third of the plot wide, a p99 line across it.
    assert shade > 5000, json.dumps({"shade": shade, "blue": blue})
    assert blue > 200, json.dumps({"shade": shade, "blue": blue})


_LAG_GREEN = (17, 99, 41)  # the delivery-lag lines, #116329

_LAG_GEOMETRY = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top + window.scrollY, width: r.width, height: r.height}; };
  const plot = (svg) => box(svg.closest('figure'));
  return {
    lag_charts: [...document.querySelectorAll('svg.chart-delivery-lag')].map(plot),
    pairs: [...document.querySelectorAll('section.pair')].map((s) => ({
      lag: [...s.querySelectorAll('svg.chart-delivery-lag')].map(plot),
      empty: [...s.querySelectorAll('.plot-slot.no-data')].map(box),
      errors: [...s.querySelectorAll('svg.chart-errors')].map(plot),
    })),
    single: [...document.querySelectorAll('section.singles article')]
      .filter((a) => a.querySelector('svg.chart-delivery-lag'))
      .map((a) => ({latency: plot(a.querySelector('svg.chart-latency')),
                    lag: plot(a.querySelector('svg.chart-delivery-lag'))})),
  };
}"""


def test_delivery_lag_charts_in_chromium(
    browser: Any, lagged_journal: dict[str, Any], tmp_path: Path
) -> None:
    page, _, problems, _ = _open(browser, lagged_journal, tmp_path)
    geometry = page.evaluate(_LAG_GEOMETRY)
    single = page.locator("section.singles svg.chart-delivery-lag").first
    chart_png = base64.b64encode(single.screenshot()).decode()
    page.close()

    assert problems == []
    assert len(geometry["lag_charts"]) == 3
    assert all(c["width"] > 300 and c["height"] > 100 for c in geometry["lag_charts"])
    for pair in geometry["pairs"]:
        # The async side's lag chart and the sync side's empty slot share a row; the error
        # charts below them stay level.
        [lag], [empty] = pair["lag"], pair["empty"]
        assert abs(lag["top"] - empty["top"]) < 1 and empty["left"] > lag["left"]
        left, right = pair["errors"]
        assert abs(left["top"] - right["top"]) < 1
    # On a card of its own, the lag sits beside the gateway latency, on the same row.
    [card] = geometry["single"]
    assert abs(card["lag"]["top"] - card["latency"]["top"]) < 1
    assert card["lag"]["left"] >= card["latency"]["left"] + card["latency"]["width"]

    shade, green = _pixels(browser, chart_png, [_FAULT_SHADE, _LAG_GREEN])
    assert shade > 5000, json.dumps({"shade": shade, "green": green})
    assert green > 200, json.dumps({"shade": shade, "green": green})
