"""docs/own-system.md runs: its code blocks, beside the example shop, pass as a user's project.

Each fenced block says what it is in its info string:
- `python file=PATH`, `ini file=PATH`: a file of the user's project (blocks with one PATH are
  joined in order); under `orders/`, the shop itself, the block must equal the example's file;
- `python excerpt=PATH`: lines quoted from a file above or from the example's, which must
  contain them;
- `bash install`: what the user installs, checked to be installed here (not run);
- `bash run`: commands run in order in the project (`pytest`, `chaos-report`).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import chaos
from chaos.runtime import rabbitmq_available

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "own-system.md"
SHOP = ROOT / "examples" / "own_system"
SYSTEM = "orders/"  # project paths that are the shop's own code, not the user's tests
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
# What the guide's run block must produce: the proxy test, the two experiments, the control.
OUTCOMES = {"passed": 3, "xfailed": 1}
EXPERIMENTS = {
    "test_payments_outage_loses_no_order[20]": "passed",
    "test_payments_outage_loses_no_order[control-0]": "xfailed",
    "test_worker_crash_loses_no_order": "passed",
}


@dataclass(frozen=True)
class Block:
    lang: str
    attrs: dict[str, str]
    text: str
    line: int

    @property
    def where(self) -> str:
        return f"{GUIDE.name}:{self.line} ({self.lang}{''.join(f' {k}' for k in self.attrs)})"


def blocks() -> list[Block]:
    text = GUIDE.read_text()
    found = []
    for match in FENCE.finditer(text):
        attrs = dict(
            token.partition("=")[::2] for token in shlex.split(match.group(2)) if token.strip()
        )
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(match.group(1), attrs, match.group(3), line))
    return found


def project() -> dict[str, str]:
    """The user's files (tests, conftest, ini), joined per path in the order of the guide."""
    files: dict[str, str] = {}
    for block in blocks():
        path = block.attrs.get("file")
        if path is None or path.startswith(SYSTEM):
            continue
        files[path] = files[path] + "\n\n" + block.text if path in files else block.text
    return files


def commands(role: str) -> list[list[str]]:
    return [
        shlex.split(line)
        for block in blocks()
        if block.lang == "bash" and role in block.attrs
        for line in block.text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def code_lines(source: str) -> int:
    """Lines that hold code: no blank lines, comments or docstrings."""
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        scopes = ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef
        if isinstance(node, scopes) and ast.get_docstring(node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def write_project(path: Path) -> None:
    shutil.copytree(SHOP / "orders", path / "orders", ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in project().items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)


# -- the page itself ---------------------------------------------------------------------------


def test_every_block_says_what_it_is() -> None:
    fences = [line for line in GUIDE.read_text().splitlines() if line.startswith("```")]
    found = blocks()
    assert len(fences) == 2 * len(found), "a fenced block without a language: it cannot run"
    unknown = [
        b.where
        for b in found
        if not (
            (b.lang in ("python", "ini") and ("file" in b.attrs or "excerpt" in b.attrs))
            or (b.lang == "bash" and ("run" in b.attrs or "install" in b.attrs))
        )
    ]
    assert unknown == [], "blocks that neither run nor are checked: give each a role"


def test_quoted_code_is_the_code_that_runs() -> None:
    files = project()
    checked = 0
    for block in blocks():
        for role in ("file", "excerpt"):
            path = block.attrs.get(role)
            if path is None or (role == "file" and not path.startswith(SYSTEM)):
                continue
            actual = (SHOP / path).read_text() if path.startswith(SYSTEM) else files[path]
            if role == "file":
                assert block.text == actual, f"{block.where} differs from {SHOP / path}"
            else:
                assert block.text in actual, f"{block.where} is not in {path}"
            checked += 1
    assert checked >= 3


def test_what_the_guide_installs_is_installed() -> None:
    install = commands("install")
    assert install, "the guide has no install block"
    for argv in install:
        if argv[:2] == ["pip", "install"]:
            for spec in argv[2:]:
                requirement = Requirement(spec)
                metadata.version(requirement.name)  # raises if it is not installed
                for extra in requirement.extras:
                    for needed in map(Requirement, metadata.requires(requirement.name) or []):
                        if needed.marker and needed.marker.evaluate({"extra": extra}):
                            metadata.version(needed.name)
        elif argv[:2] == ["apt-get", "install"]:
            assert argv[2:] == ["rabbitmq-server"], f"unchecked Debian packages: {argv[2:]}"
            if not rabbitmq_available():
                pytest.skip("rabbitmq-server is not installed")
        else:
            pytest.fail(f"install command the test cannot check: {shlex.join(argv)}")


def test_the_guides_code_is_ruff_clean(tmp_path: Path) -> None:
    write_project(tmp_path)
    python = [str(tmp_path / name) for name in project() if name.endswith(".py")]
    ruff = [sys.executable, "-m", "ruff"]
    rules = ["--isolated", "--line-length=100", "--select=E,F,W,I,B,UP,SIM,RUF"]
    checks = [[*ruff, "check", *rules, *python], [*ruff, "format", "--check", *rules[:2], *python]]
    for argv in checks:
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_conftest_plumbing_is_what_the_guide_says() -> None:
    conftest = project()["tests/conftest.py"]
    ledger = conftest.index("@pytest.fixture\ndef ledger")
    counted = (code_lines(conftest), code_lines(conftest[:ledger]), code_lines(conftest[ledger:]))
    stated = re.search(
        r"all the plumbing: (\d+) lines of code.*?: (\d+) start.*?and (\d+) feed the ledger",
        " ".join(GUIDE.read_text().split()),
    )
    assert stated, "the guide no longer says how long its conftest.py is"
    assert tuple(map(int, stated.groups())) == counted, "(all, processes, ledger) code lines"


@pytest.mark.parametrize(
    ("kind", "section"),
    [
        (chaos.Plan, "### Plan"),
        (chaos.Tolerance, "### Verdicts"),
        (chaos.LedgerResult, "### The ledger"),
    ],
)
def test_the_reference_names_every_field(kind: Any, section: str) -> None:
    text = GUIDE.read_text().split(section, 1)[1].split("\n### ", 1)[0]
    missing = [f.name for f in fields(kind) if f"`{f.name}`" not in text]
    assert missing == [], f"{kind.__name__} fields missing from {section!r}"


def test_the_shop_knows_nothing_of_chaos() -> None:
    for path in sorted(SHOP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "chaos" for n in names), f"{path} imports chaos"


# -- the page, run -------------------------------------------------------------------------------


def _survivors(root: Path) -> list[str]:
    """Live processes that belong to the run under `root`: by cwd, command line or environment."""
    ours = {os.getpid(), os.getppid()}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in ours:
            continue
        try:
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cwd = os.readlink(proc / "cwd")
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (proc / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if cwd.startswith(str(root)) or str(root) in argv or str(root).encode() in environ:
            found.append(f"pid {proc.name}: {argv[:200]}")
    return found


def _experiments(journal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in journal["experiments"]}


@pytest.mark.rabbitmq
@pytest.mark.timeout(420)
@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
def test_the_guide_runs(pytester: pytest.Pytester) -> None:
    pytest.importorskip("dramatiq")
    write_project(pytester.path)
    ran = []
    for argv in commands("run"):
        if argv[0] == "pytest":
            # The repo's test extras install pytest-asyncio, which the guide's user need not have.
            result = pytester.runpytest_subprocess(
                *argv[1:], "-p", "no:cacheprovider", "-p", "no:asyncio", timeout=300
            )
            print(f"the guide's pytest run took {result.duration:.1f} s")
            result.assert_outcomes(**OUTCOMES)
            result.stdout.fnmatch_lines(["*chaos experiments*", "HOLDS *test_worker_crash*"])
        elif argv[0] == "chaos-report":
            tool = str(Path(sys.executable).with_name("chaos-report"))
            done = subprocess.run(
                [tool, *argv[1:]], cwd=pytester.path, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stdout + done.stderr
        else:
            pytest.fail(f"run command the test cannot run: {shlex.join(argv)}")
        ran.append(argv[0])
    assert ran == ["pytest", "chaos-report"]
    assert _survivors(pytester.path) == [], "processes of the guide's run are still alive"

    artifacts = pytester.path / "artifacts"
    for page in ("report.html", "report-again.html"):
        assert "<html" in (artifacts / page).read_text()[:500]
    journal = json.loads((artifacts / "journal.json").read_text())
    assert journal["environment"]["packages"]["dramatiq"] == metadata.version("dramatiq")
    experiments = _experiments(journal)
    assert {name: e["outcome"] for name, e in experiments.items()} == EXPERIMENTS
    assert all(e["verdict"]["passed"] for e in experiments.values()), experiments

    crash = experiments["test_worker_crash_loses_no_order"]
    (event,) = crash["faults"]
    assert (event["kind"], event["target"], event["error"]) == ("crash", "worker", None)
    assert event["applied_at"] < event["removed_at"]
    assert [(f["kind"], f["target"]) for f in crash["timeline"]["faults"]] == [("crash", "worker")]
    assert max(v for _, v in crash["timeline"]["probes"]["queued"]) > 0
    assert crash["ledger"]["ok"] and crash["ledger"]["lost"] == []

    held = experiments["test_payments_outage_loses_no_order[20]"]
    assert [(f["kind"], f["target"]) for f in held["faults"]] == [("down", "payments")]
    assert [v["name"] for v in held["verdicts"]] == ["contained", "recovered"]
    assert held["ledger"]["ok"] and held["ledger"]["accepted"] > 0

    control = experiments["test_payments_outage_loses_no_order[control-0]"]
    assert control["negative_control"] is True
    assert "LedgerViolation" in control["verdict"]["reason"]
    assert control["ledger"]["lost"], "the control without retries lost nothing"
