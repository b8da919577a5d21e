"""`chaos-report`: render a report from journals, or compare two journals (a CI gate)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from chaos.report import compare_journals, write_report
from chaos.report._journal import load_journal

__all__ = ["main"]


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (e.g. 0.2 for 20%)") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (a share, 0.2 = 20%), got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chaos-report", description="Render or compare pytest-chaos journals."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser(
        "render",
        help="write one HTML report of one or more journals",
        description="Write one HTML report with the experiments of every JOURNAL, in the order "
        "given, and each journal's environment. Experiments of the same pair are shown side "
        "by side, across journals too.",
    )
    render.add_argument(
        "journals",
        metavar="JOURNAL",
        type=Path,
        nargs="+",
        help="journal JSON (from --chaos-journal)",
    )
    render.add_argument(
        "-o", "--output", type=Path, default=Path("report.html"), help="default: report.html"
    )
    compare = sub.add_parser(
        "compare", help="print what regressed from BASE to NEW; exit 1 if anything did"
    )
    compare.add_argument("base", type=Path, help="baseline journal")
    compare.add_argument("new", type=Path, help="journal of the run to judge")
    compare.add_argument(
        "--threshold",
        type=_threshold,
        default=0.2,
        help="share by which a p99 or error rate may grow before it counts (default 0.2 = 20%%)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 regressed, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            journals = [load_journal(path) for path in args.journals]
            write_report(args.output, *journals, sources=[str(p) for p in args.journals])
            count = sum(len(journal["experiments"]) for journal in journals)
            of = f" from {len(journals)} journals" if len(journals) > 1 else ""
            print(f"report: {args.output} ({count} experiments{of})")
            return 0
        base, new = load_journal(args.base), load_journal(args.new)
    except (ValueError, OSError) as exc:
        print(f"chaos-report: error: {exc}", file=sys.stderr)
        return 2
    regressions, notes = compare_journals(base, new, args.threshold)
    for note in notes:
        print(f"note: {note}")
    for regression in regressions:
        print(regression)
    compared = len(new["experiments"])
    if regressions:
        print(
            f"{len(regressions)} regression(s) in {compared} experiments "
            f"({args.new} against {args.base})"
        )
        return 1
    print(f"no regression: {compared} experiments compared (threshold {args.threshold:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
