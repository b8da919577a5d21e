"""Tests for chaos.experiment._ledger, with ledgers built by hand."""

from __future__ import annotations

import json

import pytest

from chaos.experiment._ledger import LedgerViolation, check_ledger


def test_clean_ledger() -> None:
    result = check_ledger(["a", "b", "c"], ["c", "a", "b"])
    assert result.ok
    assert result.assert_ok(allow_duplicates=False) is result
    assert not (result.lost or result.duplicated or result.unexpected or result.recovered)
    assert result.deliveries == 3


def test_lost_messages() -> None:
    result = check_ledger(["a", "b", "c"], ["a"])
    assert result.lost == {"b", "c"}
    assert not result.ok
    with pytest.raises(LedgerViolation) as info:
        result.assert_ok()
    message = str(info.value)
    assert "lost=2" in message
    assert "2 lost (accepted, never delivered): b, c" in message
    assert info.value.result is result


def test_duplicates_are_a_violation_unless_allowed() -> None:
    result = check_ledger(["a", "b"], ["a", "b", "b", "b", "a"])
    assert result.duplicated == {"a": 2, "b": 3}
    assert result.ok  # nothing lost or invented: `ok` leaves duplicates to assert_ok
    with pytest.raises(LedgerViolation, match="duplicated=2") as info:
        result.assert_ok()
    assert "2 duplicated: a x2, b x3" in str(info.value)
    assert result.assert_ok(allow_duplicates=True) is result


def test_max_duplicated_tolerates_that_many_messages_in_doubt() -> None:
    result = check_ledger(["a", "b", "c"], ["a", "b", "b", "c", "c"])
    with pytest.raises(LedgerViolation, match=r"2 duplicated \(at most 1 allowed\): b x2, c x2"):
        result.assert_ok(max_duplicated=1)
    assert result.assert_ok(max_duplicated=2) is result
    lost = check_ledger(["a", "b"], ["b", "b"])
    with pytest.raises(LedgerViolation, match="1 lost"):
        lost.assert_ok(max_duplicated=5)  # a tolerance for duplicates never excuses a loss


@pytest.mark.parametrize("bad", [-1, 1.5, True, None])
def test_max_duplicated_must_be_a_count(bad: object) -> None:
    with pytest.raises(ValueError, match="max_duplicated must be an int >= 0, got"):
        check_ledger(["a"], ["a"]).assert_ok(max_duplicated=bad)  # type: ignore[arg-type]


def test_unexpected_delivery() -> None:
    result = check_ledger(["a"], ["a", "zzz"])
    assert result.unexpected == {"zzz"}
    with pytest.raises(LedgerViolation, match=r"1 unexpected \(delivered, never accepted\): zzz"):
        result.assert_ok()


def test_unknown_outcomes_are_recovered_if_delivered_and_not_lost_if_absent() -> None:
    result = check_ledger(["a"], ["a", "t1"], attempted_unknown=["t1", "t2"])
    assert result.recovered == {"t1"}
    assert result.unexpected == frozenset()
    assert result.lost == frozenset()
    result.assert_ok(allow_duplicates=False)


def test_an_id_both_accepted_and_unknown_counts_as_accepted() -> None:
    result = check_ledger(["a"], [], attempted_unknown=["a"])
    assert result.lost == {"a"}
    assert result.recovered == frozenset()


def test_long_lists_are_truncated_in_the_message() -> None:
    accepted = [f"m{i:03d}" for i in range(25)]
    with pytest.raises(LedgerViolation) as info:
        check_ledger(accepted, []).assert_ok()
    assert "25 lost" in str(info.value)
    assert "m009, ... +15" in str(info.value)
    assert "m010" not in str(info.value)


def test_to_dict_is_json_ready_and_sorted() -> None:
    result = check_ledger(["b", "a", "c"], ["c", "c", "x"], attempted_unknown=["u"])
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {
        "accepted": 3,
        "delivered": 2,
        "deliveries": 3,
        "lost": ["a", "b"],
        "duplicated": {"c": 2},
        "unexpected": ["x"],
        "recovered": [],
        "ok": False,
    }


def test_accepts_any_iterables_once() -> None:
    result = check_ledger((f"m{i}" for i in range(3)), iter(["m0", "m1", "m2"]))
    assert result.ok and len(result.accepted) == 3
