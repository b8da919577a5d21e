"""The dependency rules of the tree, checked on the code's own imports.

- sample_system imports nothing from chaos (it is the system under test);
- chaos imports nothing from fixtures, experiments or sample_system;
- fixtures and experiments import only public names: `chaos.X`, or a name in the `__all__` of
  a public part's package (`chaos.client`, `chaos.runtime`, ...), never a private module;
- loading the plugin imports neither pika nor the docker SDK.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_PACKAGES = {
    "chaos",
    "chaos.client",
    "chaos.experiment",
    "chaos.proxy",
    "chaos.pytest_plugin",
    "chaos.pytest_plugin.factories",
    "chaos.report",
    "chaos.runtime",
    "chaos.runtime.docker",
}


def _imports(folder: str) -> Iterator[tuple[Path, int, str, list[str]]]:
    """(file, line, module, names) of every import under `folder`; names empty for `import m`."""
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, node.lineno, alias.name, []
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.lineno, node.module, [a.name for a in node.names]


def _offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path, line, module, _ in _imports(folder)
        if module.split(".")[0] in forbidden
    ]


def test_sample_system_imports_nothing_from_chaos() -> None:
    assert _offending("sample_system", ("chaos", "fixtures", "experiments")) == []


def test_chaos_imports_nothing_from_the_repo_around_it() -> None:
    assert _offending("chaos", ("fixtures", "experiments", "sample_system")) == []


def _private_uses(folder: str) -> list[str]:
    found = []
    for path, line, module, names in _imports(folder):
        if module.split(".")[0] != "chaos":
            continue
        where = f"{path.relative_to(ROOT)}:{line}"
        if module not in PUBLIC_PACKAGES:
            found.append(f"{where}: {module} is not a public package of chaos")
            continue
        exported = set(getattr(importlib.import_module(module), "__all__", ()))
        found += [f"{where}: {module}.{n} is not public" for n in names if n not in exported]
    return found


@pytest.mark.parametrize("folder", ["fixtures", "experiments"])
def test_the_worked_example_uses_only_public_names(folder: str) -> None:
    assert _private_uses(folder) == []


def test_the_rule_catches_a_private_import(tmp_path: Path) -> None:
    """The check above can fail: a private module and a private name are both reported."""
    folder = ROOT / "fixtures" / "_layout_probe"
    folder.mkdir()
    try:
        (folder / "probe.py").write_text(
            "from chaos.experiment._ledger import check_ledger\nfrom chaos import _observe\n"
        )
        found = _private_uses("fixtures/_layout_probe")
    finally:
        (folder / "probe.py").unlink()
        folder.rmdir()
    assert len(found) == 2
    assert "chaos.experiment._ledger is not a public package" in found[0]
    assert "chaos._observe is not public" in found[1]


def test_every_public_name_resolves() -> None:
    import chaos

    missing = [name for name in chaos.__all__ if not hasattr(chaos, name)]
    assert missing == []


def test_loading_the_plugin_imports_neither_pika_nor_docker() -> None:
    code = (
        "import sys, chaos, chaos.pytest_plugin\n"
        "print(sorted(m for m in ('pika', 'docker') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


pytest_plugins = ["pytester"]


def test_a_run_that_uses_no_chaos_fixture_imports_neither(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import sys\n"
        "def test_plain():\n"
        "    assert 'pika' not in sys.modules and 'docker' not in sys.modules\n"
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
