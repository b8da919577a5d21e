"""The README's "Use it in your project" example runs, as written, in a fresh pytest session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    section = README.read_text().split("## Use it in your project", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no python example under 'Use it in your project'"
    return match.group(1)


@pytest.mark.timeout(120)
def test_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


@pytest.mark.timeout(120)
def test_readme_example_fails_without_the_fault(pytester: pytest.Pytester) -> None:
    # The example's assertion can fail: with the latency removed the request is fast.
    pytester.makepyfile(test_example=example().replace("web.latency(300)", "web.latency(0)"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
