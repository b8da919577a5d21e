"""http_latency: delay the responses of matching requests, or only their first bytes.

Requests are chosen per request (see `_http`): a `percentage` of the matching ones (times the
toxicity), and at most `count` in all. Each chosen request gets its own draw of `latency` ms
+/- `jitter` ms. By default every byte of its response is held until that long after it came
from upstream (the whole response is late, as if the server were slower); with `first_byte`,
only the start of the response waits, and what follows flows as soon as it comes (a longer
time to first byte, a streamed body not slowed further). Responses keep their order: one that
follows a delayed response on the connection waits for it.
"""

from __future__ import annotations

import dataclasses

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import attribute, register
from chaos.proxy.toxics._http import Entry, HttpToxic
from chaos.proxy.toxics._http_wire import Head
from chaos.proxy.toxics.latency import draw

__all__ = ["HttpLatencyToxic"]


@register
@dataclasses.dataclass(kw_only=True)
class HttpLatencyToxic(HttpToxic):
    """Delays the responses of matching requests by `latency` ms (+/- `jitter` ms)."""

    type = "http_latency"
    go_struct = "HttpLatencyToxic"

    latency: int = attribute(doc="delay in milliseconds")
    jitter: int = attribute(doc="spread in milliseconds, drawn uniformly in [-jitter, +jitter)")
    first_byte: bool = attribute(
        go_type="bool", default=False, doc="delay only the start of the response"
    )

    def act(self, head: Head, entry: Entry, stub: Stub) -> None:
        entry.delay = draw(self.latency, self.jitter, stub.rng)
        entry.first_byte = self.first_byte
