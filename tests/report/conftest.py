"""Shared fixtures: the real journal of a full experiment run (as is, or with a synthetic
delivery lag on its async experiments), and an HTML element tree."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chaos.experiment import Run, delivery_lag

JOURNAL = Path(__file__).resolve().parent.parent / "data" / "journal.json"
_VOID = {"meta", "br", "wbr", "img", "input", "link", "hr", "col", "source"}


@dataclass
class Node:
    """An element: tag, attributes, children; `text` is all text inside it."""

    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.iter()
            if n is not self and (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
        ]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        # A mismatched end tag is a bug in the page: fail loudly rather than guess.
        if self.stack[-1].tag != tag:
            raise AssertionError(f"</{tag}> closes <{self.stack[-1].tag}>")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for node in self.stack:
            node.parts.append(data)


def parse_html(page: str) -> Node:
    """The element tree of `page`; raises AssertionError on unbalanced tags."""
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], [n.tag for n in builder.stack]
    return builder.root


@pytest.fixture(scope="session")
def _real_journal() -> dict[str, Any]:
    return json.loads(JOURNAL.read_text())


@pytest.fixture
def journal(_real_journal: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the real journal (13 experiments), free to doctor."""
    return copy.deepcopy(_real_journal)


@pytest.fixture
def parse() -> Callable[[str], Node]:
    return parse_html


LAGGED = (0, 2, 3)
"""The experiments of the real journal that get a delivery lag: async latency, async
partition (both paired with a sync side that has none) and the broker crash (unpaired)."""


def synthetic_lag(exp: dict[str, Any], peak_s: float = 3.0) -> dict[str, Any]:
    """A delivery lag on `exp`'s own phases: 15 messages a second, 20 ms in the baseline,
    rising to `peak_s` through the fault, back to 20 ms 1 s into recovery; the last message
    accepted during the fault never delivered."""
    timeline = exp["timeline"]
    t0 = timeline["t0"]
    marks = {p["name"]: t0 + p["start"] for p in timeline["phases"]}
    marks["end"] = t0 + timeline["phases"][-1]["end"]
    fault, recovery = marks["fault"], marks["recovery"]
    accepted: dict[str, float] = {}
    delivered: dict[str, list[float]] = {}
    at = marks["baseline"]
    while at < marks["end"]:
        rid = f"m{len(accepted)}"
        accepted[rid] = at
        if fault <= at < recovery:
            lag = 0.02 + (peak_s - 0.02) * (at - fault) / (recovery - fault)
        else:
            lag = 1.0 if recovery <= at < recovery + 1 else 0.02
        delivered[rid] = [at + lag]
        at += 1 / 15
    last_in_fault = [r for r, t in accepted.items() if t < recovery][-1]
    del delivered[last_in_fault]
    with_marks = Run(loads={}, probes=None, marks=marks)
    return delivery_lag(accepted, delivered, with_marks).to_dict()


@pytest.fixture
def lagged_journal(journal: dict[str, Any]) -> dict[str, Any]:
    """The real journal, the experiments `LAGGED` with a `synthetic_lag`."""
    for i in LAGGED:
        journal["experiments"][i]["delivery_lag"] = synthetic_lag(journal["experiments"][i])
    return journal
