"""A proxy's toxics, by stream, in insertion order, and how they are added, updated, removed."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from chaos.proxy.errors import InvalidStream, InvalidToxicType, ToxicExists, ToxicNotFound
from chaos.proxy.toxics import TOXICS, Toxic

__all__ = ["STREAMS", "ToxicCollection", "ToxicSpec", "parse_stream"]

STREAMS = ("upstream", "downstream")


def parse_stream(raw: str) -> str:
    """Canonical stream name, case-insensitively, as Toxiproxy parses it."""
    stream = raw.lower()
    if stream not in STREAMS:
        raise InvalidStream()
    return stream


@dataclasses.dataclass(frozen=True)
class ToxicSpec:
    """A named toxic of a proxy: what the API shows and what links run."""

    name: str
    stream: str
    """Canonical stream (upstream or downstream)."""
    stream_as_given: str
    """The spelling the client used, echoed back as Toxiproxy does."""
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.toxic.type,
            "stream": self.stream_as_given,
            "toxicity": self.toxicity,
        }


Apply = Callable[[str, tuple[ToxicSpec, ...], bool], Awaitable[None]]


class ToxicCollection:
    """Upstream and downstream chains; every change is pushed to live links by `apply`."""

    def __init__(self, apply: Apply) -> None:
        self._apply = apply
        self.chains: dict[str, list[ToxicSpec]] = {s: [] for s in STREAMS}

    def all(self) -> list[ToxicSpec]:
        """Upstream toxics then downstream, each in insertion order."""
        return [*self.chains["upstream"], *self.chains["downstream"]]

    def get(self, name: str) -> ToxicSpec:
        for spec in self.all():
            if spec.name == name:
                return spec
        raise ToxicNotFound()

    def chain(self, stream: str) -> tuple[ToxicSpec, ...]:
        return tuple(self.chains[stream])

    @staticmethod
    def build(
        type_: str | None,
        stream: str | None,
        name: str | None,
        toxicity: float | None,
        attributes: Mapping[str, Any] | None,
        existing: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> ToxicSpec:
        """Validate a new toxic in Toxiproxy's order: stream, type, name clash, attributes."""
        given = "downstream" if stream is None else stream
        canonical = parse_stream(given)
        cls = TOXICS.get(type_ or "")
        if cls is None:
            raise InvalidToxicType()
        name = name or f"{type_}_{given}"
        if name in existing:
            raise ToxicExists()
        toxic = cls.from_attributes(attributes)
        return ToxicSpec(name, canonical, given, 1.0 if toxicity is None else toxicity, toxic)

    def names(self) -> set[str]:
        return {spec.name for spec in self.all()}

    async def add(self, spec: ToxicSpec) -> ToxicSpec:
        if spec.name in self.names():
            raise ToxicExists()
        self.chains[spec.stream].append(spec)
        await self._apply(spec.stream, self.chain(spec.stream), False)
        return spec

    async def update(
        self, name: str, attributes: Mapping[str, Any] | None, toxicity: float | None
    ) -> ToxicSpec:
        """Partial merge: given attributes over current ones; toxicity kept unless given."""
        old = self.get(name)
        toxic = type(old.toxic).from_attributes(attributes, base=old.toxic)
        new = dataclasses.replace(
            old, toxic=toxic, toxicity=old.toxicity if toxicity is None else toxicity
        )
        chain = self.chains[old.stream]
        chain[chain.index(old)] = new
        await self._apply(old.stream, self.chain(old.stream), False)
        return new

    async def remove(self, name: str) -> None:
        old = self.get(name)
        self.chains[old.stream].remove(old)
        await self._apply(old.stream, self.chain(old.stream), old.toxic.closes_on_remove)

    async def clear(self) -> None:
        for stream in STREAMS:
            removed = self.chains[stream]
            if not removed:
                continue
            self.chains[stream] = []
            close = any(spec.toxic.closes_on_remove for spec in removed)
            await self._apply(stream, (), close)

    def to_json(self) -> list[dict[str, Any]]:
        return [spec.to_json() for spec in self.all()]
