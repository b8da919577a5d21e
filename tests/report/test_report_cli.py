"""`chaos-report render|compare`: files written, exit codes, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos.report.cli import main

JOURNAL = Path(__file__).resolve().parent.parent / "data" / "journal.json"


def _write(path: Path, journal: dict[str, Any]) -> Path:
    path.write_text(json.dumps(journal))
    return path


def test_render_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r" / "report.html"
    assert main(["render", str(JOURNAL), "-o", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 26
    assert capsys.readouterr().out == f"report: {out} (13 experiments)\n"


def test_render_several_journals_into_one_report(
    tmp_path: Path, journal: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    journal["environment"]["backend"] = "docker"
    journal["experiments"] = journal["experiments"][:2]
    docker = _write(tmp_path / "docker.json", journal)
    out = tmp_path / "report.html"
    assert main(["render", str(JOURNAL), str(docker), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"report: {out} (15 experiments from 2 journals)\n"
    page = out.read_text()
    assert page.count('class="experiment-row') == 15
    assert page.count('class="journal-environment"') == 2
    assert f'data-source="{docker}"' in page and f'data-source="{JOURNAL}"' in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read journal {bad}: [Errno 2] No such file or directory"),
        ('{"experiments": {}, "schema_version": 1}', "{bad}: 'experiments' must be a list"),
        ("[1, 2]", "{bad} is not a pytest-chaos journal"),
    ],
)
def test_render_names_the_journal_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    bad = tmp_path / "second.json"
    if content is not None:
        bad.write_text(content)
    out = tmp_path / "r.html"
    assert main(["render", str(JOURNAL), str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chaos-report: error: ") and message.format(bad=bad) in err
    assert not out.exists(), "no report from a partial set of journals"


def test_render_needs_a_journal(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["render", "-o", "r.html"])
    assert exc.value.code == 2
    assert "the following arguments are required: JOURNAL" in capsys.readouterr().err


def test_compare_identical_journals_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(JOURNAL), str(JOURNAL)]) == 0
    assert capsys.readouterr().out == "no regression: 13 experiments compared (threshold 0.2)\n"


def test_compare_regression_exits_1_naming_the_experiment(
    tmp_path: Path, journal: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    exp = journal["experiments"][2]
    exp["verdict"] = {"passed": False, "reason": "fault error rate 40.0% > 2.0%"}
    exp["figures"]["reactions.fault.error_rate"] = 0.4
    new = _write(tmp_path / "new.json", journal)
    assert main(["compare", str(JOURNAL), str(new), "--threshold", "0.5"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"REGRESSED {exp['name']}: verdict HOLDS -> BROKEN: fault error rate 40.0% > 2.0%",
        f"REGRESSED {exp['name']}: reactions.fault.error_rate 0.0% -> 40.0% (from zero)",
    ]
    assert out[2].startswith("2 regression(s) in 13 experiments")


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["compare", str(JOURNAL), str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"chaos-report: error: cannot read journal {missing}:")
    assert "No such file" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"hello": 1}', "is not a pytest-chaos journal (no 'experiments' key)"),
        ("not json at all", "cannot read journal"),
        ('{"experiments": [], "schema_version": 99}', "has journal schema version 99"),
    ],
)
def test_non_journal_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["render", str(bad), "-o", str(tmp_path / "r.html")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_bad_threshold_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(JOURNAL), str(JOURNAL), "--threshold", "-1"])
    assert exc.value.code == 2
    assert "must be >= 0" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_runs_as_a_program(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "chaos.report.cli", "compare", str(JOURNAL), str(JOURNAL)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith("no regression")
