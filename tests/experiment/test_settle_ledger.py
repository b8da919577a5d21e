"""Tests for chaos.experiment._settle_ledger: fake records and dead letters, on a fake clock."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest

from chaos.experiment import FakeClock, SettleTimeout, settle_ledger


@dataclass
class Target:
    accepted: set[str]
    unknown: set[str] = field(default_factory=set)


class Store:
    """The system's records: each snapshot on one read, then the last one for ever."""

    def __init__(self, *snapshots: list[str]) -> None:
        self.snapshots, self.reads = list(snapshots), 0

    def __call__(self) -> list[str]:
        self.reads += 1
        return self.snapshots[min(self.reads, len(self.snapshots)) - 1]


def test_waits_until_every_accepted_id_is_delivered() -> None:
    clock = FakeClock()
    store = Store([], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "b"])
    result = settle_ledger(Target({"a", "b", "c"}), store, clock=clock, interval=0.5)
    assert result.ok and result.lost == frozenset()
    assert result.duplicated == {"b": 2}  # a fresh read once settled: late deliveries count
    assert clock.now() == 1.5  # three waits of 0.5 s before the fourth read had them all
    assert store.reads == 5


def test_dead_letters_end_the_wait_and_the_ledger_finds_them_lost() -> None:
    clock = FakeClock()
    dead = iter([0, 1, 2])
    result = settle_ledger(
        Target({"a", "b", "c"}), Store(["a"]), dead=lambda: next(dead), clock=clock
    )
    assert result.lost == {"b", "c"} and not result.ok
    assert clock.now() == pytest.approx(0.4)  # settled on the third look, when 2 were dead


def test_timeout_says_how_many_ids_are_missing() -> None:
    clock = FakeClock()
    with pytest.raises(SettleTimeout) as info:
        settle_ledger(
            Target({"a", "b", "c", "d", "e"}), Store(["a", "b"]), dead=lambda: 1, clock=clock
        )
    assert str(info.value) == (
        "every accepted id delivered or given up on: not true after 30 s "
        "(last seen: 3 of 5 accepted ids not delivered, 1 given up on)"
    )
    assert clock.now() == 30.0


def test_timeout_without_dead_letters() -> None:
    with pytest.raises(SettleTimeout, match=r"last seen: 1 of 2 accepted ids not delivered\)"):
        settle_ledger(Target({"a", "b"}), Store(["b"]), timeout=2, clock=FakeClock())


def test_errors_while_reading_count_as_not_yet() -> None:
    answers: Iterator[Iterable[str] | Exception] = iter([OSError("store locked"), ["a"]])

    def delivered() -> Iterable[str]:
        answer = next(answers, ["a"])
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = FakeClock()
    assert settle_ledger(Target({"a"}), delivered, clock=clock).ok
    assert clock.now() == pytest.approx(0.2)


def test_a_failing_dead_letter_count_is_the_last_thing_seen() -> None:
    def dead() -> int:
        raise ConnectionError("broker restarting")

    with pytest.raises(SettleTimeout) as info:
        settle_ledger(Target({"a"}), Store([]), dead=dead, timeout=1, clock=FakeClock())
    assert isinstance(info.value.last, ConnectionError)


def test_unknown_outcomes_are_not_waited_for_and_recovered_if_delivered() -> None:
    calls: list[int] = []

    def dead() -> int:
        calls.append(1)
        return 0

    clock = FakeClock()
    target = Target({"a"}, unknown={"u1", "u2"})
    result = settle_ledger(target, Store(["a", "u1"]), dead=dead, clock=clock)
    assert result.recovered == {"u1"} and result.ok
    assert clock.now() == 0.0 and calls == []  # nothing missing: the dead letters go unread
