"""The report's inline stylesheet: system fonts only, so the page needs no network."""

__all__ = ["CSS"]

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --card:#fff;
  --good:#1a7f37; --good-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "DejaVu Sans", sans-serif; }
header.top { background:#24292f; color:#fff; padding:18px 32px 14px; }
header.top h1 { margin:0 0 4px; font-size:22px; font-weight:600; letter-spacing:.2px; }
header.top .sub { color:#c9d1d9; }
.status { display:inline-block; font-weight:600; padding:2px 10px; border-radius:12px;
  margin-bottom:4px; }
.status.holds { background:var(--good-bg); color:var(--good); }
.status.broken { background:var(--bad-bg); color:var(--bad); }
main { padding:8px 32px 40px; max-width:1500px; margin:0 auto; }
h2 { font-size:18px; margin:26px 0 10px; font-weight:600; }
h3 { font-size:15px; margin:0; font-weight:600; font-family: ui-monospace, "SFMono-Regular",
  "DejaVu Sans Mono", Menlo, monospace; }
h4 { font-size:13px; margin:14px 0 6px; color:var(--muted); text-transform:uppercase;
  letter-spacing:.4px; }
table { border-collapse:collapse; width:100%; background:var(--card); }
th, td { text-align:left; vertical-align:top; padding:5px 10px;
  border-bottom:1px solid var(--line); }
thead th { background:#eef1f4; font-size:12px; color:var(--muted); font-weight:600; }
table.summary { border:1px solid var(--line); border-radius:6px; }
table.summary td:first-child a { font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size:12px; color:#0969da; text-decoration:none; }
table.summary td { font-size:13px; }
table.summary .tag { margin-top:1px; }
td.num { white-space:nowrap; font-variant-numeric:tabular-nums; }
.load { color:var(--muted); font-size:12px; display:inline-block; min-width:62px; }
.sub { color:var(--muted); font-size:12px; }
.badge { display:inline-block; font-weight:700; font-size:12px; padding:1px 8px;
  border-radius:10px; letter-spacing:.3px; }
.badge.holds { background:var(--good-bg); color:var(--good); border:1px solid #aceebb; }
.badge.broken { background:var(--bad-bg); color:var(--bad); border:1px solid #ffcecb; }
.note { display:block; font-size:11.5px; color:var(--muted); margin-top:2px; }
header .note { display:inline; margin-left:6px; }
.tag { display:inline-block; font-size:11px; color:var(--muted); border:1px solid var(--line);
  border-radius:10px; padding:0 7px; margin:2px 4px 0 0; background:#fff; }
.good { color:var(--good); font-weight:600; } .bad { color:var(--bad); font-weight:600; }
.legend-note { color:var(--muted); font-size:12px; }
.swatch { display:inline-block; width:14px; height:10px; vertical-align:middle; }
.swatch.fault { background:rgba(207,34,46,.14); border:1px solid rgba(207,34,46,.35); }
.pair-grid { display:grid; grid-template-columns:repeat(var(--sides, 2), minmax(0, 1fr));
  column-gap:16px; }
.side-label { font-weight:700; text-transform:uppercase; font-size:12px; letter-spacing:1px;
  color:var(--muted); margin:0 0 4px; }
.experiment { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:14px 16px; margin-bottom:16px; }
.experiment > header { display:flex; flex-wrap:wrap; align-items:center; gap:8px; }
.meta { color:var(--muted); font-size:11.5px; margin:2px 0 6px; word-break:break-all; }
.hypothesis { margin:6px 0; white-space:pre-wrap; }
.hypothesis.missing { color:var(--muted); font-style:italic; }
details { margin:6px 0; } details p { white-space:pre-wrap; margin:4px 0; }
details.context summary { color:var(--muted); }
.journal-environment h3 { margin:14px 0 6px; }
summary { cursor:pointer; color:#0969da; font-size:12.5px; }
.reason { margin:6px 0; font-size:13px; }
.checks { margin:4px 0 8px; padding-left:18px; font-size:12.5px; color:var(--muted); }
.plots { display:grid; grid-template-columns:repeat(auto-fill, minmax(440px, 1fr)); gap:10px; }
.pair-side { display:grid; grid-template-rows:subgrid; grid-template-columns:minmax(0, 1fr);
  row-gap:10px; margin:0; min-width:0; }
.pair-side h3 { overflow-wrap:anywhere; }
.pair-side > .tail { overflow-x:auto; }
.side-label .source { text-transform:none; font-weight:400; letter-spacing:0; }
.pair-side > .text { align-self:start; }
figure.plot { margin:0; border:1px solid #eaeef2; border-radius:6px; padding:6px 6px 2px; }
figcaption { font-size:12.5px; font-weight:600; margin:0 0 0 4px; }
svg.chart { width:100%; height:auto; display:block; }
svg .fault-window { fill:rgba(207,34,46,.12); }
svg .frame { fill:none; stroke:#d1d9e0; }
svg .grid { stroke:#eaeef2; } svg .tick { stroke:#8c959f; }
svg .axis { font-size:10.5px; fill:#59636e; }
svg .legend { font-size:11px; fill:#1f2328; }
svg .phase-boundary { stroke:#6e7781; stroke-dasharray:3 3; }
svg .phase-label { font-size:10px; fill:#59636e; }
svg text { font-family: system-ui, "DejaVu Sans", sans-serif; }
table.faults, details.phases table { font-size:12.5px; }
.no-data { color:var(--muted); font-style:italic; }
.environment table th { width:160px; color:var(--muted); font-weight:600; }
@media (max-width: 1000px) { .pair-grid { grid-template-columns:1fr; } }
"""
