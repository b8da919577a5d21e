"""A proxy as a test sees it: where to connect, and faults as context managers."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from chaos._timeline import FaultEvent, Timeline
from chaos.client import HttpMatch, Proxy as ProxyModel, ToxicNotFound, Toxiproxy

__all__ = ["ProxyHandle"]

_STREAMS = ("upstream", "downstream")
Fault = contextlib.AbstractContextManager[FaultEvent]
_names = itertools.count(1)


class ProxyHandle:
    """`with handle.latency(200): ...` applies a toxic for the block and always removes it."""

    def __init__(self, api: Toxiproxy, model: ProxyModel, timeline: Timeline) -> None:
        self.api = api
        self.name = model.name
        self.upstream = model.upstream
        self.listen = model.listen
        self.timeline = timeline

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def address(self) -> str:
        """host:port clients connect to."""
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"ProxyHandle({self.name!r}, {self.listen} -> {self.upstream})"

    # -- faults ------------------------------------------------------------------------------

    def toxic(
        self, type: str, stream: str = "downstream", toxicity: float = 1.0, **attributes: object
    ) -> Fault:
        """Any toxic by its API name, for the duration of a `with` block."""
        if stream not in _STREAMS:
            raise ValueError(f"stream must be 'upstream' or 'downstream', got {stream!r}")
        name = f"{type}_{stream}_{next(_names)}"

        def apply() -> None:
            self.api.add_toxic(
                self.name, type, stream=stream, toxicity=toxicity, attributes=attributes, name=name
            )

        def rollback() -> None:
            # The server may have been reset meanwhile: the toxic is gone either way.
            with contextlib.suppress(ToxicNotFound):
                self.api.remove_toxic(self.name, name)

        attrs: dict[str, Any] = {"stream": stream, "toxicity": toxicity, **attributes}
        return self.timeline.fault(type, self.name, apply, rollback, attrs)

    def latency(
        self, ms: int, jitter: int = 0, stream: str = "downstream", toxicity: float = 1.0
    ) -> Fault:
        """Delay data by `ms` ± `jitter` milliseconds."""
        return self.toxic("latency", stream, toxicity, latency=ms, jitter=jitter)

    def bandwidth(self, kbps: int, stream: str = "downstream", toxicity: float = 1.0) -> Fault:
        """Limit to `kbps` kilobytes per second."""
        return self.toxic("bandwidth", stream, toxicity, rate=kbps)

    def timeout(self, ms: int = 0, stream: str = "downstream", toxicity: float = 1.0) -> Fault:
        """Black-hole data; close after `ms` without data (0: never)."""
        return self.toxic("timeout", stream, toxicity, timeout=ms)

    def reset_peer(self, ms: int = 0, stream: str = "downstream", toxicity: float = 1.0) -> Fault:
        """Reset (RST) connections `ms` after their first data."""
        return self.toxic("reset_peer", stream, toxicity, timeout=ms)

    def slicer(
        self,
        average_size: int,
        size_variation: int = 0,
        delay_us: int = 0,
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> Fault:
        """Cut data into small slices with `delay_us` between them."""
        return self.toxic(
            "slicer",
            stream,
            toxicity,
            average_size=average_size,
            size_variation=size_variation,
            delay=delay_us,
        )

    def slow_close(self, ms: int, stream: str = "downstream", toxicity: float = 1.0) -> Fault:
        """Delay the close of connections by `ms`."""
        return self.toxic("slow_close", stream, toxicity, delay=ms)

    def limit_data(self, nbytes: int, stream: str = "downstream", toxicity: float = 1.0) -> Fault:
        """Close connections after `nbytes` bytes."""
        return self.toxic("limit_data", stream, toxicity, bytes=nbytes)

    def http_error(
        self,
        status: int = 503,
        *,
        percentage: float | None = None,
        count: int | None = None,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        match: HttpMatch | None = None,
        toxicity: float = 1.0,
    ) -> Fault:
        """Answer matching HTTP requests with `status` instead of forwarding them.

        `percentage` of the matching requests (rolled per request), at most `count` in all
        (`count=2`: fail twice, then succeed); `match` chooses them (`method`, `path`,
        `match_headers`; see `chaos.client.HttpMatch`). Our proxy server only: a real
        Toxiproxy has no HTTP toxics and refuses it.
        """
        given_headers = None if headers is None else dict(headers)
        attributes = {"status": status, "body": body, "headers": given_headers}
        return self._http("http_error", attributes, percentage, count, match, toxicity)

    def http_latency(
        self,
        ms: int,
        jitter: int = 0,
        *,
        first_byte: bool = False,
        percentage: float | None = None,
        count: int | None = None,
        match: HttpMatch | None = None,
        toxicity: float = 1.0,
    ) -> Fault:
        """Delay the responses of matching HTTP requests by `ms` ± `jitter` (our server only).

        With `first_byte`, only the start of each response waits; the rest as for http_error.
        """
        attributes = {"latency": ms, "jitter": jitter, "first_byte": first_byte}
        return self._http("http_latency", attributes, percentage, count, match, toxicity)

    def _http(
        self,
        type: str,
        attributes: Mapping[str, object],
        percentage: float | None,
        count: int | None,
        match: HttpMatch | None,
        toxicity: float,
    ) -> Fault:
        chosen: dict[str, object] = dict(match or {})
        for key, value in (("percentage", percentage), ("count", count)):
            if value is not None and key in chosen:
                raise ValueError(
                    f"{type}: {key} given twice ({value!r} and match[{key!r}]="
                    f"{chosen[key]!r}); give it once"
                )
            if value is not None:
                chosen[key] = value
        given = {k: v for k, v in {**attributes, **chosen}.items() if v is not None}
        # An HTTP toxic acts on both directions; its stream only names it.
        return self.toxic(type, "downstream", toxicity, **given)

    @contextlib.contextmanager
    def down(self) -> Iterator[FaultEvent]:
        """Disable the proxy (refuse new connections, close live ones) for the block."""
        with self.timeline.fault(
            "down",
            self.name,
            lambda: self.api.disable(self.name),
            lambda: self.api.enable(self.name),
        ) as event:
            yield event

    def cut(self) -> None:
        """Close every live connection now; the proxy keeps accepting."""
        self.api.cut_connections(self.name)
