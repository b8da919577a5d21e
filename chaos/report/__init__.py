"""The HTML report of journals, and the comparison of two journals (a resilience gate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chaos.report._compare import Regression, compare_journals
from chaos.report._html import render_page

__all__ = ["Regression", "compare_journals", "render_report", "write_report"]


def render_report(*journals: Mapping[str, Any], sources: Sequence[str] = ()) -> str:
    """One self-contained HTML page (inline CSS and SVG, no network) for one or more journal
    dicts; `sources` names each journal (e.g. its file) when there are several."""
    return render_page(journals, sources)


def write_report(
    path: Path | str, *journals: Mapping[str, Any], sources: Sequence[str] = ()
) -> None:
    """Render and write atomically, so a browser never shows half a report."""
    page = render_report(*journals, sources=sources)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
