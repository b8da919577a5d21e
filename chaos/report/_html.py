"""The report page of one or more journals: summary, experiments (pairs side by side),
environments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from chaos.report._charts import (
    LAG_KIND,
    experiment_charts,
    has_lag,
    latency_peak,
    probe_colors,
    x_range,
)
from chaos.report._style import CSS
from chaos.report._svg import nice_max, render_chart

__all__ = ["render_page"]

Experiment = Mapping[str, Any]
_NONE = "\u2013"  # an en dash: no value


@dataclass(frozen=True)
class _Entry:
    """An experiment of the page, and which journal it came from (`source` None: the only one)."""

    exp: Experiment
    index: int
    journal: int
    source: str | None


@dataclass(frozen=True)
class _Pair:
    name: str
    sides: list[_Entry]


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


def _secs(value: object) -> str:
    if not isinstance(value, int | float):
        return _NONE
    return _ms(value * 1000) if abs(value) < 1 else f"{value:,.1f} s"


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


def _tags(exp: Experiment, source: str | None = None) -> str:
    tags = [f"from {source}"] if source is not None else []
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


def _lag_cell(exp: Experiment) -> str:
    """Delivery lag p99 of the messages accepted in the baseline and during the fault."""
    phases = (exp.get("delivery_lag") or {}).get("phases") or {}
    fault = phases.get("fault")
    if not fault:
        return _NONE
    base = (phases.get("baseline") or {}).get("p99_s")
    lost = fault.get("undelivered") or 0
    note = f'<div class="sub bad">{_e(lost)} undelivered</div>' if lost else ""
    return f"{_secs(base)} → <b>{_secs(fault.get('p99_s'))}</b>{note}"


def _duration(exp: Experiment) -> str:
    value = exp.get("duration_s")
    return f"{value:.1f} s" if isinstance(value, int | float) else _NONE


def _anchor(index: int) -> str:
    return f"exp-{index}"


def proven_protections(experiments: Sequence[Experiment]) -> tuple[int, int]:
    """(proven, controls): each protection counts once, proven if every control of it failed
    as required."""
    verdicts: dict[str, bool] = {}
    for exp in experiments:
        name = exp.get("protection")
        if exp.get("negative_control") and name:
            ok = exp.get("outcome") == "xfailed" and bool((exp.get("verdict") or {}).get("passed"))
            verdicts[name] = verdicts.get(name, True) and ok
    return sum(verdicts.values()), len(verdicts)


def _proven(experiments: Sequence[Experiment]) -> str:
    proven, total = proven_protections(experiments)
    if not total:
        return ""
    cls = "holds" if proven == total else "broken"
    return (
        f'<div class="status protections {cls}">protections proven necessary: '
        f"{proven} of {total}</div>"
    )


def _summary(entries: Sequence[_Entry]) -> str:
    rows = []
    for entry in entries:
        exp, i = entry.exp, entry.index
        holds, _, _ = _verdict(exp)
        p99, err = _key_figures(exp)
        rows.append(
            f'<tr class="experiment-row {"holds" if holds else "broken"}">'
            f'<td><a href="#{_anchor(i)}">{_breakable(exp.get("name", "?"))}</a>'
            f'<div class="sub">{_tags(exp, entry.source)}</div></td>'
            f"<td>{_e(_first_line(exp.get('hypothesis') or '')) or _NONE}</td>"
            f'<td class="verdict">{_badge(exp)}</td>'
            f'<td class="num">{p99}</td><td class="num">{err}</td>'
            f'<td class="num">{_ledger_cell(exp)}</td>'
            f'<td class="num lag">{_lag_cell(exp)}</td>'
            f'<td class="num">{_duration(exp)}</td></tr>'
        )
    return (
        '<table class="summary"><thead><tr><th>Experiment</th><th>Hypothesis</th>'
        "<th>Verdict</th><th>p99 baseline → fault</th><th>Errors baseline → fault</th>"
        "<th>Ledger</th><th>Delivery lag p99 baseline → fault</th><th>Duration</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _hypothesis(exp: Experiment) -> str:
    """The headline paragraph, the rest folded; the module's docstring as context when the
    headline is the test's own."""
    paragraphs = _paragraphs(exp.get("hypothesis") or "")
    if not paragraphs:
        return '<p class="hypothesis missing">No hypothesis stated (no docstring).</p>'
    out = f'<p class="hypothesis">{_e(paragraphs[0])}</p>'
    if len(paragraphs) > 1:
        rest = "".join(f"<p>{_e(p)}</p>" for p in paragraphs[1:])
        out += f'<details class="more"><summary>Full hypothesis</summary>{rest}</details>'
    docs = exp.get("docstrings") or {}
    context = _paragraphs(docs.get("module") or "") if docs.get("test") else []
    if context:
        body = "".join(f"<p>{_e(p)}</p>" for p in context[1:])
        out += (
            f'<details class="context"><summary>Context ({_e(exp.get("module") or "module")}): '
            f"{_e(context[0])}</summary>{body}</details>"
        )
    return out


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


def _plots(
    exp: Experiment,
    x: tuple[float, float] | None,
    y: float | None,
    colors: Mapping[str, str],
    lag_slot: bool = False,
) -> list[str]:
    """The charts' figures; with `lag_slot`, a note where a pair's other side has its lag."""
    charts = experiment_charts(exp, x, y, colors)
    if not charts:
        outcome = exp.get("outcome", "unknown")
        reason = (exp.get("verdict") or {}).get("reason", "")
        return [
            f'<p class="no-data">No measurements: the experiment ended ({_e(outcome)}) '
            f"before its run. {_e(reason)}</p>"
        ]
    plots = [
        f'<figure class="plot"><figcaption>{_e(c.title)}</figcaption>{render_chart(c)}</figure>'
        for c in charts
    ]
    if lag_slot and all(c.kind != LAG_KIND for c in charts):
        plots.insert(
            1, '<div class="plot-slot no-data">No delivery lag measured on this path.</div>'
        )
    return plots


def _experiment(
    entry: _Entry,
    colors: Mapping[str, str],
    x: tuple[float, float] | None = None,
    y: float | None = None,
    slots: int | None = None,
    lag_slot: bool = False,
) -> str:
    """One experiment's card; with `slots`, a pair side whose rows align with the others'."""
    exp, index = entry.exp, entry.index
    reason = (exp.get("verdict") or {}).get("reason", "")
    origin = f" · {_e(entry.source)}" if entry.source is not None else ""
    text = (
        f"<header><h3>{_e(exp.get('name', '?'))}</h3>{_badge(exp)}{_tags(exp)}</header>"
        f'<div class="meta">{_e(exp.get("id", ""))} · {_duration(exp)}{origin}</div>'
        f"{_hypothesis(exp)}"
        f'<p class="reason"><b>Verdict:</b> {_e(reason)}</p>{_checks(exp)}'
    )
    tail = f"<h4>Faults</h4>{_fault_table(exp)}{_phase_table(exp)}"
    attrs = f'id="{_anchor(index)}" data-name="{_e(exp.get("name"))}"'
    plots = _plots(exp, x, y, colors, lag_slot)
    if slots is None:
        return (
            f'<article class="experiment" {attrs}>{text}'
            f'<div class="plots">{"".join(plots)}</div><div>{tail}</div></article>'
        )
    # Subgrid rows: each chart sits level with the same chart of the other sides.
    plots += ['<div class="plot-slot"></div>'] * (slots - len(plots))
    path = _e(exp.get("path"))
    return (
        f'<article class="experiment pair-side" data-path="{path}" {attrs} '
        f'style="grid-row: span {slots + 2}"><div class="text"><div class="side-label">'
        f'{path} path<span class="source">{origin}</span></div>{text}</div>{"".join(plots)}'
        f'<div class="tail">{tail}</div></article>'
    )


def _pairs(entries: Sequence[_Entry]) -> list[_Pair]:
    """Pairs of two or more sides, in run order: per pair, the first experiment of each path
    (of each journal) that is not a negative control."""
    found: dict[str, dict[tuple[int, str], _Entry]] = {}
    for entry in entries:
        pair, path = entry.exp.get("pair"), entry.exp.get("path")
        if not pair or not path or entry.exp.get("negative_control"):
            continue
        found.setdefault(str(pair), {}).setdefault((entry.journal, str(path)), entry)
    return [_Pair(name, list(sides.values())) for name, sides in found.items() if len(sides) > 1]


def _pair(pair: _Pair, colors: Mapping[str, str]) -> str:
    members = [side.exp for side in pair.sides]
    ranges = [x_range(m) for m in members]
    x = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    y = nice_max(max(latency_peak(m) for m in members))
    # The delivery lag sits under the latency: a side without one keeps its row empty.
    lag_slot = any(has_lag(m) for m in members)
    slots = max(len(experiment_charts(m, x, y)) + (lag_slot and not has_lag(m)) for m in members)
    columns = "".join(_experiment(side, colors, x, y, slots or 1, lag_slot) for side in pair.sides)
    paths = ", ".join(dict.fromkeys(str(m.get("path")) for m in members))
    return (
        f'<section class="pair" data-pair="{_e(pair.name)}"><h2>The same fault, '
        f'{len(members)} paths: {_e(pair.name)}</h2><p class="sub">One column per path '
        f"({_e(paths)}), in run order, on shared axes.</p>"
        f'<div class="pair-grid" style="--sides: {len(members)}">{columns}</div></section>'
    )


def _environment_table(journal: Mapping[str, Any]) -> str:
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
    return f"<table>{body}</table>"


def _environments(journals: Sequence[Mapping[str, Any]], sources: Sequence[str]) -> str:
    if len(journals) == 1:
        return (
            '<section class="environment"><h2>Environment</h2>'
            f"{_environment_table(journals[0])}</section>"
        )
    tables = "".join(
        f'<div class="journal-environment" data-source="{_e(source)}"><h3>{_e(source)}</h3>'
        f"{_environment_table(journal)}</div>"
        for journal, source in zip(journals, sources, strict=True)
    )
    return f'<section class="environment"><h2>Environments</h2>{tables}</section>'


def _run_line(journal: Mapping[str, Any], source: str | None) -> str:
    env = journal.get("environment") or {}
    where = f"{_e(source)}: " if source is not None else ""
    return (
        f'<div class="sub">{where}{_when(journal.get("started_at"))} · backend '
        f"{_e(env.get('backend', '?'))} · {_e(env.get('cpus', '?'))} CPUs · Python "
        f"{_e(env.get('python', '?'))}</div>"
    )


def render_page(journals: Sequence[Mapping[str, Any]], sources: Sequence[str] = ()) -> str:
    """The whole report of `journals` as one HTML document; `sources` name them (e.g. their
    files) when there are several."""
    if not journals:
        raise ValueError("a report needs at least one journal, got none")
    names = list(sources) or [f"journal {i + 1}" for i in range(len(journals))]
    if len(names) != len(journals):
        raise ValueError(f"{len(journals)} journals but {len(names)} sources: {names}")
    several = len(journals) > 1
    entries: list[_Entry] = []
    for number, (journal, name) in enumerate(zip(journals, names, strict=True)):
        for exp in journal.get("experiments") or []:
            entries.append(_Entry(exp, len(entries), number, name if several else None))
    experiments = [entry.exp for entry in entries]
    held = sum(1 for e in experiments if _verdict(e)[0])
    unjudged = sum(1 for e in experiments if (e.get("verdict") or {}).get("inconclusive"))
    broken = len(experiments) - held - unjudged
    pairs = _pairs(entries)
    paired = {side.index for pair in pairs for side in pair.sides}
    colors = probe_colors(experiments)
    body = [_pair(pair, colors) for pair in pairs]
    singles = [_experiment(entry, colors) for entry in entries if entry.index not in paired]
    if singles:
        body.append(f'<section class="singles"><h2>Experiments</h2>{"".join(singles)}</section>')
    problems = [f"{n} {what}" for n, what in ((broken, "broken"), (unjudged, "inconclusive")) if n]
    status = ", ".join(problems) or "all hypotheses hold"
    status_cls = "broken" if problems else "holds"
    counts = " · ".join([f"{len(experiments)} experiments", f"{held} hold", *problems])
    runs = "".join(
        _run_line(journal, name if several else None)
        for journal, name in zip(journals, names, strict=True)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>pytest-chaos report · {_e(status)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>pytest-chaos report</h1><div class="status {status_cls}">'
        f"{counts}</div>"
        f"{_proven(experiments)}{runs}</header>"
        f'<main><section class="summary-section"><h2>Summary</h2>{_summary(entries)}'
        '<p class="legend-note">Plots: <span class="swatch fault"></span> fault window · '
        "dashed vertical lines: phase boundaries · p99 solid, p50 dashed · "
        "a gap in a latency line: no request of that interval succeeded · delivery lag: "
        "accepted (2xx) to first delivery, by time of acceptance, max solid, p50 dashed; a gap: "
        "nothing accepted then was delivered.</p></section>"
        + "".join(body)
        + _environments(journals, names)
        + "</main></body></html>\n"
    )
