"""Tests of the shared settings parsing."""

from collections.abc import Callable

import pytest

from sample_system.common.settings import Env, SettingsError


def test_unset_and_blank_variables_give_the_default() -> None:
    env = Env({"B": "  "})
    assert env.integer("A", 3) == 3
    assert env.number("B", 1.5) == 1.5
    assert env.text("B", "x") == "x"


def test_values_are_parsed_and_bounded() -> None:
    env = Env({"N": "7", "F": "0.25", "C": "ASYNC", "ON": "on", "OFF": "0"})
    assert env.integer("N", 0, min=1, max=10) == 7
    assert env.number("F", 0.0, max=1.0) == 0.25
    assert env.choice("C", "sync", ("sync", "async")) == "async"
    assert env.flag("ON", False) is True
    assert env.flag("OFF", True) is False


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.integer("V", 1), r"V='x' is not an integer"),
        (lambda e: e.number("V", 1.0), r"V='x' is not a number"),
        (lambda e: e.choice("V", "a", ("a", "b")), r"V='x' is not one of a, b"),
        (lambda e: e.flag("V", True), r"V='x' is not a boolean"),
        (lambda e: e.url("V", "http://h", ("http",)), r"V='x' is not a http URL"),
    ],
)
def test_bad_values_name_the_variable(call: Callable[[Env], object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        call(Env({"V": "x"}))


def test_out_of_range_names_the_bounds() -> None:
    with pytest.raises(SettingsError, match=r"V=0 is out of range; expected 1..5"):
        Env({"V": "0"}).integer("V", 1, min=1, max=5)
    with pytest.raises(SettingsError, match=r"V=nan is out of range"):
        Env({"V": "nan"}).number("V", 1.0)
