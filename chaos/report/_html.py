"""The report page: summary table, experiments (pairs side by side), environment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from chaos.report._charts import experiment_charts, latency_peak, x_range
from chaos.report._style import CSS
from chaos.report._svg import nice_max, render_chart

__all__ = ["render_page"]

Experiment = Mapping[str, Any]
_SIDES = ("sync", "async")
_NONE = "\u2013"  # an en dash: no value


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(unix: object) -> str:
    if not isinstance(unix, int | float):
        return "?"
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ms(value: object) -> str:
    if not isinstance(value, int | float):
        return _NONE
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _pct(value: object) -> str:
    if not isinstance(value, int | float):
        return _NONE
    return f"{100 * value:.0f}%" if value >= 0.1 or value == 0 else f"{100 * value:.1f}%"


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    head, sep, rest = line.partition(":")
    # "Hypothesis: ..." says what the column header already says.
    return rest.strip() if sep and head.strip().lower() == "hypothesis" else line


def _breakable(name: str) -> str:
    """Escaped, with break opportunities after underscores and before brackets."""
    return _e(name).replace("_", "_<wbr>").replace("[", "<wbr>[")


def _verdict(exp: Experiment) -> tuple[bool, str, str]:
    """(holds, badge text, note) for the summary."""
    verdict = exp.get("verdict") or {}
    holds = bool(verdict.get("passed"))
    outcome = exp.get("outcome")
    if verdict.get("inconclusive"):
        return False, "INCONCLUSIVE", str(verdict.get("reason", ""))[:120]
    if exp.get("negative_control"):
        if outcome == "xfailed":
            return holds, "HOLDS", "control failed as required"
        if outcome == "xpassed":
            return holds, "BROKEN", "control passed: its check cannot fail"
    if outcome in ("error", "unknown", "skipped"):
        return holds, "BROKEN" if not holds else "HOLDS", str(outcome)
    return holds, "HOLDS" if holds else "BROKEN", ""


def _badge(exp: Experiment) -> str:
    holds, text, note = _verdict(exp)
    cls = "holds" if holds else "broken"
    note_html = f'<span class="note">{_e(note)}</span>' if note else ""
    return f'<span class="badge {cls}">{text}</span>{note_html}'


def _tags(exp: Experiment) -> str:
    tags = []
    if exp.get("pair"):
        tags.append(f"pair: {exp['pair']}")
    if exp.get("path"):
        tags.append(f"path: {exp['path']}")
    if exp.get("negative_control"):
        tags.append("negative control")
    return "".join(f'<span class="tag">{_e(t)}</span>' for t in tags)


def _loads(exp: Experiment) -> list[str]:
    names = list((exp.get("loads") or {}).keys())
    for key in exp.get("figures") or {}:
        load = key.split(".", 1)[0]
        if load not in names:
            names.append(load)
    return names


def _key_figures(exp: Experiment) -> tuple[str, str]:
    figures = exp.get("figures") or {}
    p99, err = [], []
    for load in _loads(exp):
        base = figures.get(f"{load}.baseline.p99_ms")
        fault = figures.get(f"{load}.fault.p99_ms")
        p99.append(
            f'<div><span class="load">{_e(load)}</span> {_ms(base)} → <b>{_ms(fault)}</b></div>'
        )
        base_e = figures.get(f"{load}.baseline.error_rate")
        fault_e = figures.get(f"{load}.fault.error_rate")
        err.append(
            f'<div><span class="load">{_e(load)}</span> {_pct(base_e)} → '
            f"<b>{_pct(fault_e)}</b></div>"
        )
    return "".join(p99) or _NONE, "".join(err) or _NONE


def _ledger_cell(exp: Experiment) -> str:
    ledger = exp.get("ledger")
    if not ledger:
        return _NONE
    lost = len(ledger.get("lost") or [])
    dup = len(ledger.get("duplicated") or {})
    cls = "bad" if lost else "good"
    return (
        f'<span class="{cls}">{lost} lost</span> · {dup} dup.'
        f'<div class="sub">{_e(ledger.get("accepted"))} accepted, '
        f"{_e(ledger.get('deliveries'))} deliv.</div>"
    )


def _duration(exp: Experiment) -> str:
    value = exp.get("duration_s")
    return f"{value:.1f} s" if isinstance(value, int | float) else _NONE


def _anchor(index: int) -> str:
    return f"exp-{index}"


def _summary(experiments: Sequence[Experiment]) -> str:
    rows = []
    for i, exp in enumerate(experiments):
        holds, _, _ = _verdict(exp)
        p99, err = _key_figures(exp)
        rows.append(
            f'<tr class="experiment-row {"holds" if holds else "broken"}">'
            f'<td><a href="#{_anchor(i)}">{_breakable(exp.get("name", "?"))}</a>'
            f'<div class="sub">{_tags(exp)}</div></td>'
            f"<td>{_e(_first_line(exp.get('hypothesis') or '')) or _NONE}</td>"
            f'<td class="verdict">{_badge(exp)}</td>'
            f'<td class="num">{p99}</td><td class="num">{err}</td>'
            f'<td class="num">{_ledger_cell(exp)}</td>'
            f'<td class="num">{_duration(exp)}</td></tr>'
        )
    return (
        '<table class="summary"><thead><tr><th>Experiment</th><th>Hypothesis</th>'
        "<th>Verdict</th><th>p99 baseline → fault</th><th>Errors baseline → fault</th>"
        "<th>Ledger</th><th>Duration</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _hypothesis(text: str) -> str:
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    if not paragraphs:
        return '<p class="hypothesis missing">No hypothesis stated (no docstring).</p>'
    first = f'<p class="hypothesis">{_e(paragraphs[0])}</p>'
    if len(paragraphs) == 1:
        return first
    rest = "".join(f"<p>{_e(p)}</p>" for p in paragraphs[1:])
    return f'{first}<details class="more"><summary>Full hypothesis</summary>{rest}</details>'


def _checks(exp: Experiment) -> str:
    items = []
    for check in exp.get("verdicts") or []:
        mark, cls = ("✓", "good") if check.get("passed") else ("✗", "bad")
        extra = " (inconclusive)" if check.get("inconclusive") else ""
        items.append(
            f'<li><span class="{cls}">{mark}</span> <b>{_e(check.get("name", "?"))}</b>'
            f"{extra}: {_e(check.get('reason', ''))}</li>"
        )
    return f'<ul class="checks">{"".join(items)}</ul>' if items else ""


def _fault_table(exp: Experiment) -> str:
    faults = exp.get("faults") or []
    if not faults:
        return '<p class="sub">No fault was applied.</p>'
    t0 = (exp.get("timeline") or {}).get("t0")

    def at(unix: object) -> str:
        if not isinstance(unix, int | float):
            return _NONE
        return f"{unix - t0:+.2f} s" if isinstance(t0, int | float) else _when(unix)

    rows = "".join(
        f"<tr><td>{_e(f.get('kind'))}</td><td>{_e(f.get('target'))}</td>"
        f"<td>{_e(', '.join(f'{k}={v}' for k, v in (f.get('attributes') or {}).items()))}</td>"
        f'<td class="num">{at(f.get("applied_at"))}</td>'
        f'<td class="num">{at(f.get("removed_at"))}</td>'
        f"<td>{_e(f.get('error') or '')}</td></tr>"
        for f in faults
    )
    return (
        '<table class="faults"><thead><tr><th>Fault</th><th>Target</th><th>Attributes</th>'
        "<th>Applied</th><th>Removed</th><th>Error</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _phase_table(exp: Experiment) -> str:
    rows = []
    for load, results in (exp.get("loads") or {}).items():
        for name, phase in (results.get("phases") or {}).items():
            latency = phase.get("latency") or {}
            errors = ", ".join(f"{k}: {v}" for k, v in (phase.get("errors") or {}).items())
            rows.append(
                f"<tr><td>{_e(load)}</td><td>{_e(name)}</td>"
                f'<td class="num">{_e(phase.get("sent", _NONE))}</td>'
                f'<td class="num">{_pct(phase.get("error_rate"))}</td>'
                f'<td class="num">{_ms(latency.get("p50_ms"))}</td>'
                f'<td class="num">{_ms(latency.get("p99_ms"))}</td>'
                f"<td>{_e(errors) or _NONE}</td></tr>"
            )
    if not rows:
        return ""
    return (
        '<details class="phases"><summary>Per-phase figures</summary><table><thead><tr>'
        "<th>Load</th><th>Phase</th><th>Sent</th><th>Errors</th><th>p50</th><th>p99</th>"
        f"<th>Errors by kind</th></tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def _plots(exp: Experiment, x: tuple[float, float] | None, y: float | None) -> list[str]:
    charts = experiment_charts(exp, x, y)
    if not charts:
        outcome = exp.get("outcome", "unknown")
        reason = (exp.get("verdict") or {}).get("reason", "")
        return [
            f'<p class="no-data">No measurements: the experiment ended ({_e(outcome)}) '
            f"before its run. {_e(reason)}</p>"
        ]
    return [
        f'<figure class="plot"><figcaption>{_e(c.title)}</figcaption>{render_chart(c)}</figure>'
        for c in charts
    ]


def _experiment(
    exp: Experiment,
    index: int,
    x: tuple[float, float] | None = None,
    y: float | None = None,
    slots: int | None = None,
) -> str:
    """One experiment's card; with `slots`, a pair side whose rows align with the other's."""
    reason = (exp.get("verdict") or {}).get("reason", "")
    text = (
        f"<header><h3>{_e(exp.get('name', '?'))}</h3>{_badge(exp)}{_tags(exp)}</header>"
        f'<div class="meta">{_e(exp.get("id", ""))} · {_duration(exp)}</div>'
        f"{_hypothesis(exp.get('hypothesis') or '')}"
        f'<p class="reason"><b>Verdict:</b> {_e(reason)}</p>{_checks(exp)}'
    )
    tail = f"<h4>Faults</h4>{_fault_table(exp)}{_phase_table(exp)}"
    attrs = f'id="{_anchor(index)}" data-name="{_e(exp.get("name"))}"'
    plots = _plots(exp, x, y)
    if slots is None:
        return (
            f'<article class="experiment" {attrs}>{text}'
            f'<div class="plots">{"".join(plots)}</div><div>{tail}</div></article>'
        )
    # Subgrid rows: each chart sits level with the same chart of the other side.
    plots += ['<div class="plot-slot"></div>'] * (slots - len(plots))
    path = _e(exp.get("path"))
    return (
        f'<article class="experiment pair-side" data-path="{path}" {attrs} '
        f'style="grid-row: span {slots + 2}"><div class="text"><div class="side-label">'
        f"{path} path</div>{text}</div>{''.join(plots)}<div>{tail}</div></article>"
    )


def _pairs(experiments: Sequence[Experiment]) -> dict[str, dict[str, int]]:
    """pair -> {path: index} for the first non-control experiment of each side."""
    pairs: dict[str, dict[str, int]] = {}
    for i, exp in enumerate(experiments):
        pair, path = exp.get("pair"), exp.get("path")
        if not pair or path not in _SIDES or exp.get("negative_control"):
            continue
        pairs.setdefault(pair, {}).setdefault(path, i)
    return {pair: sides for pair, sides in pairs.items() if len(sides) == 2}


def _pair(name: str, sides: dict[str, int], experiments: Sequence[Experiment]) -> str:
    members = [experiments[sides[s]] for s in _SIDES]
    ranges = [x_range(m) for m in members]
    x = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    y = nice_max(max(latency_peak(m) for m in members))
    slots = max(len(experiment_charts(m, x, y)) for m in members) or 1
    columns = "".join(
        _experiment(experiments[sides[side]], sides[side], x, y, slots) for side in _SIDES
    )
    return (
        f'<section class="pair" data-pair="{_e(name)}"><h2>The same fault, two paths: '
        f'{_e(name)}</h2><p class="sub">Shared axes: the sync side\'s cascade against the '
        f'async side\'s containment.</p><div class="pair-grid">{columns}</div></section>'
    )


def _environment(journal: Mapping[str, Any]) -> str:
    env = dict(journal.get("environment") or {})
    packages = env.pop("packages", None) or {}
    proxy = env.pop("proxy_server", None)
    rows = [(k, v) for k, v in env.items()]
    if isinstance(proxy, Mapping):
        rows.append(("proxy server", ", ".join(f"{k}: {v}" for k, v in proxy.items())))
    rows.append(("packages", ", ".join(f"{k} {v}" for k, v in packages.items())))
    tool = journal.get("tool") or {}
    rows.append(
        (
            "journal",
            f"{tool.get('name', '?')} {tool.get('version', '?')}, schema "
            f"{journal.get('schema_version', '?')}",
        )
    )
    rows.append(
        ("session", f"{_when(journal.get('started_at'))} → {_when(journal.get('ended_at'))}")
    )
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<section class="environment"><h2>Environment</h2><table>{body}</table></section>'


def render_page(journal: Mapping[str, Any]) -> str:
    """The whole report as one HTML document."""
    experiments = list(journal.get("experiments") or [])
    held = sum(1 for e in experiments if _verdict(e)[0])
    broken = len(experiments) - held
    pairs = _pairs(experiments)
    paired = {i for sides in pairs.values() for i in sides.values()}
    body = [_pair(name, sides, experiments) for name, sides in pairs.items()]
    singles = [_experiment(e, i) for i, e in enumerate(experiments) if i not in paired]
    if singles:
        body.append(f'<section class="singles"><h2>Experiments</h2>{"".join(singles)}</section>')
    status = "all hypotheses hold" if not broken else f"{broken} broken"
    status_cls = "holds" if not broken else "broken"
    env = journal.get("environment") or {}
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pytest-chaos report · {_e(status)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>pytest-chaos report</h1><div class="status {status_cls}">'
        f"{len(experiments)} experiments · {held} hold · {broken} broken</div>"
        f'<div class="sub">{_when(journal.get("started_at"))} · backend '
        f"{_e(env.get('backend', '?'))} · {_e(env.get('cpus', '?'))} CPUs · Python "
        f"{_e(env.get('python', '?'))}</div></header>"
        f'<main><section class="summary-section"><h2>Summary</h2>{_summary(experiments)}'
        '<p class="legend-note">Plots: <span class="swatch fault"></span> fault window · '
        "dashed vertical lines: phase boundaries · p99 solid, p50 dashed · "
        "a gap in a latency line: no request of that interval succeeded.</p></section>"
        + "".join(body)
        + _environment(journal)
        + "</main></body></html>\n"
    )
