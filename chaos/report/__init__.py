"""The HTML report of a journal, and the comparison of two journals (a resilience gate)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaos.report._compare import Regression, compare_journals
from chaos.report._html import render_page

__all__ = ["Regression", "compare_journals", "render_report", "write_report"]


def render_report(journal: Mapping[str, Any]) -> str:
    """One self-contained HTML page (inline CSS and SVG, no network) for a journal dict."""
    return render_page(journal)


def write_report(path: Path | str, journal: Mapping[str, Any]) -> None:
    """Render and write atomically, so a browser never shows half a report."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(render_report(journal), encoding="utf-8")
    tmp.replace(target)
