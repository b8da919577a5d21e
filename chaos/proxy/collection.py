"""A proxy's toxics, by stream, in insertion order, and how they are added, updated, removed.

A toxic that spans the connection (the HTTP toxics) is listed under its stream but runs on both
links: `chain()` puts it at the head of the upstream chain and at the tail of the downstream
chain, in reverse order of creation, so those toxics nest, the oldest outermost. Its links do
not roll its toxicity (it applies per request, see `toxics._http`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from chaos.proxy.errors import InvalidStream, InvalidToxicType, ToxicExists, ToxicNotFound
from chaos.proxy.toxics import TOXICS, Toxic

__all__ = ["STREAMS", "ToxicCollection", "ToxicSpec", "parse_stream"]

STREAMS = ("upstream", "downstream")
_uids = itertools.count(1)


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
    uid: int = dataclasses.field(default_factory=lambda: next(_uids))
    """Unique to this toxic, kept through updates (a re-added name gets a new one)."""

    def on_link(self, stream: str) -> ToxicSpec:
        """The spec a link of `stream` runs."""
        if not self.toxic.spans_connection:
            return self
        toxic = self.toxic.on_link(stream, self.toxicity, self.uid)
        return dataclasses.replace(self, toxic=toxic, toxicity=1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.toxic.type,
            "stream": self.stream_as_given,
            "toxicity": self.toxicity,
        }


Close = bool | Callable[[dict[Any, Any]], bool]
"""Whether a chain change closes a connection: for all of them, or asked of each one's
shared state."""
Apply = Callable[[str, tuple[ToxicSpec, ...], Close], Awaitable[None]]


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
        """What a link of `stream` runs, in order from its source to its destination."""
        own = [spec for spec in self.chains[stream] if not spec.toxic.spans_connection]
        spanning = self._spanning()
        if not spanning:
            return tuple(own)
        bound = [spec.on_link(stream) for spec in spanning]
        return tuple(bound + own) if stream == "upstream" else tuple(own + bound[::-1])

    def _spanning(self) -> list[ToxicSpec]:
        return sorted((s for s in self.all() if s.toxic.spans_connection), key=lambda s: s.uid)

    def _streams(self, spec: ToxicSpec) -> tuple[str, ...]:
        """The links a change of `spec` touches (downstream first: answers have a way out)."""
        return ("downstream", "upstream") if spec.toxic.spans_connection else (spec.stream,)

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
        for stream in self._streams(spec):
            await self._apply(stream, self.chain(stream), False)
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
        for stream in self._streams(new):
            await self._apply(stream, self.chain(stream), False)
        return new

    async def remove(self, name: str) -> None:
        old = self.get(name)
        self.chains[old.stream].remove(old)
        for stream in self._streams(old):
            await self._apply(stream, self.chain(stream), _closing([old], stream))

    async def clear(self) -> None:
        removed = self.all()
        self.chains = {s: [] for s in STREAMS}
        for stream in ("downstream", "upstream"):
            if any(stream in self._streams(spec) for spec in removed):
                await self._apply(stream, (), _closing(removed, stream))

    def to_json(self) -> list[dict[str, Any]]:
        return [spec.to_json() for spec in self.all()]


def _closing(removed: list[ToxicSpec], stream: str) -> Close:
    """Whether removing `removed` closes a connection, when the links of `stream` change.

    A TCP toxic decides on its own stream; a spanning one decides per connection, once, as its
    downstream half goes (it then forgets the connection's state).
    """
    close = any(
        s.toxic.closes_on_remove
        for s in removed
        if s.stream == stream and not s.toxic.spans_connection
    )
    spanning = [s for s in removed if s.toxic.spans_connection]
    if not spanning or stream != "downstream":
        return close

    def per_connection(shared: dict[Any, Any]) -> bool:
        verdicts = [s.toxic.on_remove(shared, s.uid) for s in spanning]  # all of them: they forget
        return close or any(verdicts)

    return per_connection
