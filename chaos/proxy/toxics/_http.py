"""What the HTTP toxics share: matching, per-request selection, and the two halves.

An HTTP toxic sees whole exchanges, so it runs on both links of a connection, whatever its
`stream` (which then only names it and orders it in listings): its request half reads requests
on the upstream link, its response half reads responses on the downstream link. The halves of
one connection meet in an `Exchange` kept in `Stub.shared`: a line of the requests in the order
the client sent them, each forwarded or answered by the proxy. A response from upstream belongs
to the oldest forwarded request still unanswered; an answer the proxy makes waits in that line
until every response ahead of it has been passed on, so pipelined responses keep their order.

Several HTTP toxics nest like middleware, the oldest outermost: request halves at the head of
the upstream chain (nearest the client), response halves at the tail of the downstream chain in
reverse order, so an inner toxic only sees what the outer ones let through, and TCP toxics sit
between the HTTP toxics and the server (a request answered by the proxy never meets them).

Traps:
- Each request is judged when its head is complete; its body is then forwarded or dropped as
  it streams, never buffered. A response is never held, only delayed.
- Bad HTTP on either side makes the toxic stand aside for that connection: bytes flow on
  untouched (answers already owed are sent at once). So does a switch of protocol (101, or 2xx
  to CONNECT): while such a request awaits its answer, the bytes after it are held, unparsed.
- Added to a live connection (its link has carried bytes: `midway`), the toxic may land
  inside a message, so each half waits for a boundary it can be sure of. The request half
  passes bytes on untouched, never holding any, until a chunk holds a whole request head:
  judging starts there. The response half passes bytes on unframed until a request has been
  judged: a client that waits for each response (keep-alive without pipelining, as most do)
  sends that request only once the response in progress is through, so the next byte from
  upstream starts its answer. Requests pipelined across that moment may have their responses
  paired wrongly. Without this, a toxic added while a response's body was still to come (a
  server writes head and body apart) read the body as a bad status line and stood aside for
  the connection for good: a pooled connection that then carried most of the traffic was
  never slowed (a planted recovery leak came out HOLDS).
- The request half never waits, and the response half waits only to delay: so each handles a
  chunk inline (`Toxic.inline`, no turn of the loop) whenever the link lets it, and the cost
  of an HTTP toxic is mostly its parsing. A chunk that is exactly one message (a request
  head with no body, a response with all of its Content-Length body: most chunks of a
  keep-alive stream) is framed in one step (`Framer.whole_request`, `whole_response`) and
  passed on whole; anything else takes the framer's events. Both ways must agree: the
  one-step way declines whatever it is not sure of.
- An interrupt (any toxic of the link changed) in the middle of a request head, or while bytes
  wait for an upgrade's answer, flushes what is held and the toxic stands aside for the
  connection: nothing held may be lost if the toxic is being removed. Removing the toxic closes
  (after what is queued) the connections where the proxy still owes an answer or is dropping a
  request's body: the client could never again tell which response answers which request.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import fnmatch
import re
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import InvalidAttribute, Toxic, attribute
from chaos.proxy.toxics._http_wire import END, HEAD, START, Framer, Head, starts_a_request

__all__ = ["Entry", "Exchange", "HttpToxic"]

_TOKEN_CHARS = "!#$%&'*+\\-.^_`|~0-9A-Za-z"
_TOKEN = re.compile(f"[{_TOKEN_CHARS}]+\\Z")
_GLOB = re.compile(r"[*?\[]")
TOKEN_SCHEMA = {"pattern": f"^[{_TOKEN_CHARS}]+$"}
"""An HTTP token (a method, a header name), as a JSON schema."""


@dataclasses.dataclass(eq=False, slots=True)
class Entry:
    """One request of a connection, as the request half decided it."""

    method: str
    local: bytes | None = None
    """The proxy's own answer: the request is not forwarded."""
    close: bool = False
    """The connection ends after the local answer."""
    delay: float = 0.0
    """Seconds to hold the response (http_latency)."""
    first_byte: bool = False
    """Hold only the response's first bytes, not all of it."""
    upgrade: bool = False
    """Upgrade or CONNECT: a 101 or 2xx answer turns the connection into a tunnel."""
    started: bool = False
    """Its response has begun (a 1xx came): the first-byte delay is spent."""


class Exchange:
    """The line of requests of one connection, shared by the two halves of one toxic."""

    def __init__(self) -> None:
        self.pending: deque[Entry] = deque()
        self.responder: Stub | None = None
        """The response half's stub while it runs: local answers are sent through it."""
        self.busy = False
        """The response half is inside a response, or still sending delayed bytes."""
        self.closed = False
        self.stand_aside = False
        """Bad HTTP or a tunnel: nobody judges, frames or delays anything any more."""
        self.dropping = False
        """The request half is dropping the body of a request it answered itself."""
        self.waiting = False
        """Bytes after an upgrade request are held until its answer says if HTTP goes on."""
        self.on_release: Callable[[], None] | None = None
        """What the request half does with them then."""

    def push(self, entry: Entry) -> None:
        self.pending.append(entry)
        if entry.local is not None:
            self.pump()

    def owes(self) -> bool:
        """Removing the toxic now would lose an answer or leak half a dropped request."""
        return self.dropping or any(e.local is not None for e in self.pending)

    def locals_due(self) -> list[Entry]:
        """Pop the local answers at the head of the line (nothing from upstream ahead of them)."""
        due = []
        while self.pending and self.pending[0].local is not None:
            due.append(self.pending.popleft())
        return due

    def pump(self) -> None:
        """Send due local answers now, if the response half is between responses."""
        stub = self.responder
        if stub is None or self.busy or self.closed:
            return
        if not self.pending or self.pending[0].local is None:
            return  # the usual case: nothing of the proxy's own is due
        for entry in self.locals_due():
            assert entry.local is not None
            stub.send(Chunk(entry.local, stub.now()))
            if entry.close:
                self.close(stub)
                return

    def close(self, stub: Stub) -> None:
        """A local answer ended the connection: the client is told with FIN after it."""
        self.closed = True
        self.pending.clear()
        self.release()
        stub.close()

    def release(self) -> None:
        """Let go of the bytes held behind an upgrade request (it has its answer)."""
        if self.waiting:
            self.waiting = False
            if self.on_release is not None:
                # Later, not now: the response half is amid a chunk, and what the request half
                # lets go may be answered locally, which must come after that chunk.
                asyncio.get_running_loop().call_soon(self.on_release)

    def delays(self) -> bool:
        """Some request in line has its response delayed."""
        for entry in self.pending:  # noqa: SIM110 (no generator: on every chunk's path)
            if entry.delay:
                return True
        return False


@dataclasses.dataclass
class _RequestState:
    framer: Framer = dataclasses.field(default_factory=lambda: Framer(request=True))
    held: bytearray = dataclasses.field(default_factory=bytearray)
    """Bytes of a head not complete yet (judged once it is), or bytes behind an upgrade."""
    current: Entry | None = None
    discard: bool = False
    """A local answer closes the connection: whatever the client sends after is dropped."""
    midway: bool = False
    """Added to a live connection, no request head judged yet (see module: bytes pass)."""


@dataclasses.dataclass
class _ResponseState:
    framer: Framer = dataclasses.field(default_factory=lambda: Framer(request=False))
    current: Entry | None = None
    """The request the response in progress answers (from its first byte to its end)."""
    delay: float = 0.0
    interim: bool = False
    """The response in progress is a 1xx: the final one follows for the same request."""
    sending: bool = False
    """Delayed bytes of a chunk are still being sent (the half's task is busy)."""
    midway: bool = False
    """Added to a live connection, no request judged since (see module: bytes pass)."""


class _Budget:
    """How many requests a toxic with `count` may still act on (shared by every connection)."""

    __slots__ = ("used",)

    def __init__(self) -> None:
        self.used = 0


def _tokens(raw: str) -> list[str]:
    return [part.strip(" \t") for part in raw.split(",") if part.strip(" \t")]


def _path_of(target: str) -> str:
    """The path of an absolute-form request target (`http://host/path?query`), no query."""
    rest = target.split("://", 1)[1]
    target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return target.split("?", 1)[0]


@dataclasses.dataclass(kw_only=True)
class HttpToxic(Toxic):
    """Base of the HTTP toxics: which requests they act on, and the two halves that act."""

    spans_connection: ClassVar[bool] = True

    method: str = attribute(
        go_type="string",
        default="",
        doc="methods to match, comma-separated; empty: any",
        schema={"pattern": f"^[ \\t]*([{_TOKEN_CHARS}]*[ \\t]*,[ \\t]*)*[{_TOKEN_CHARS}]*[ \\t]*$"},
    )
    path: str = attribute(
        go_type="string",
        default="",
        doc="path prefix, or a glob if it has * ? or [ (matched without the query); empty: any",
        schema={"pattern": "^([/*].*)?$"},
    )
    match_headers: dict[str, str] = attribute(  # noqa: RUF009 (attribute() is a field())
        go_type="map[string]string",
        default={},
        doc="header name to a glob its value must match (`*`: present); all must match",
        schema={"propertyNames": TOKEN_SCHEMA},
    )
    percentage: float = attribute(
        go_type="float64",
        default=100.0,
        doc="percent of matching requests acted on, rolled per request (times toxicity)",
        schema={"maximum": 100},
    )
    count: int = attribute(
        doc="act on at most this many requests in all (the first ones selected); 0: no limit"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._budget = _Budget()
        self._methods = {m.upper() for m in _tokens(self.method)}
        self._glob = bool(_GLOB.search(self.path))
        self._headers = [(name.lower(), value) for name, value in self.match_headers.items()]
        self._side = ""
        self._chance = self.percentage / 100.0
        """The chance that a matching request is acted on: toxicity times percentage."""
        self._key = 0
        self._exchange_key: tuple[type, int] = (HttpToxic, 0)

    def validate(self) -> None:
        super().validate()
        for token in _tokens(self.method):
            if not _TOKEN.match(token):
                self.refuse("method", self.method, "a method or a comma-separated list, e.g. GET")
        if self.path and self.path[0] not in "/*":
            self.refuse("path", self.path, "a path starts with /, e.g. /api or /api/*/items")
        for name in self.match_headers:
            if not _TOKEN.match(name):
                self.refuse("match_headers", name, "header names are tokens, e.g. X-Request-Id")
        if self.percentage > 100:
            self.refuse("percentage", self.percentage, "a percentage is within 0..100")

    def refuse(self, name: str, value: Any, hint: str) -> None:
        raise InvalidAttribute(
            f"invalid attribute: {self.type} {name} {value!r} is not valid (hint: {hint})"
        )

    def carry_over(self, base: Toxic) -> None:
        """An update keeps the number of requests acted on, unless `count` itself changed."""
        if isinstance(base, HttpToxic) and base.count == self.count:
            self._budget = base._budget

    # -- what links run ----------------------------------------------------------------------

    def on_link(self, stream: str, toxicity: float, key: int) -> HttpToxic:
        """This toxic as one link of a connection runs it: its half for `stream`."""
        bound = copy.copy(self)
        bound._side, bound._key = stream, key
        bound._chance = toxicity * self.percentage / 100.0
        bound._exchange_key = (HttpToxic, key)
        return bound

    def on_remove(self, shared: dict[Any, Any], key: int) -> bool:
        """Forget a connection's exchange; True if the connection must close (see module)."""
        exchange = shared.pop((HttpToxic, key), None)
        return isinstance(exchange, Exchange) and exchange.owes()

    def new_state(self, *, midway: bool = False) -> Any:
        if self._side == "upstream":
            return _RequestState(midway=midway)
        return _ResponseState(midway=midway)

    def _exchange(self, stub: Stub) -> Exchange:
        if self._side not in ("upstream", "downstream"):
            raise RuntimeError(f"{self.type} runs through on_link(), on both links of a connection")
        exchange: Exchange | None = stub.shared.get(self._exchange_key)
        if exchange is None:
            exchange = stub.shared[self._exchange_key] = Exchange()
        return exchange

    async def pipe(self, stub: Stub) -> None:
        exchange = self._exchange(stub)
        if self._side == "upstream":
            await self._requests(stub, exchange, stub.state)
        else:
            await self._responses(stub, exchange, stub.state)

    def inline(self, stub: Stub, chunk: Chunk) -> bool:
        """Handle a chunk at once, without a turn of the loop, if nothing has to wait.

        The link calls this only while this toxic's queue is empty, so nothing is overtaken.
        """
        exchange = stub.shared.get(self._exchange_key) or self._exchange(stub)
        if self._side == "upstream":
            self._request_chunk(stub, exchange, stub.state, chunk)
            return True
        state: _ResponseState = stub.state
        if state.sending or state.delay or exchange.closed:
            return False  # the task waits its turn, or has waiting to do
        if self._whole_answer(exchange, state, chunk.data):
            stub.send(chunk)  # the usual case
            return True
        pending = exchange.pending
        if pending and exchange.delays():
            return False  # a response to come is held: that is the task's to do
        sends = self._frame_responses(exchange, state, chunk)
        if len(sends) == 1 and sends[0][0] is chunk.data and not sends[0][2]:
            stub.send(chunk)  # the whole chunk, due now: the usual case
        else:
            for send in sends:
                if not _deliver(stub, exchange, send):
                    return True
        if pending and pending[0].local is not None:
            exchange.pump()  # answers of the proxy's own, due once this response is out
        return True

    # -- judging -----------------------------------------------------------------------------

    def matches(self, head: Head) -> bool:
        method, target, _ = head.line
        if self._methods and method.upper() not in self._methods:
            return False
        if self.path:
            if "://" in target:
                target = _path_of(target)
            elif self._glob:
                target = target.split("?", 1)[0]
            # A prefix has no "?" (that makes it a glob), so a query never changes its match.
            if self._glob:
                if not fnmatch.fnmatchcase(target, self.path):
                    return False
            elif not target.startswith(self.path):
                return False
        for name, pattern in self._headers:
            if not any(fnmatch.fnmatchcase(v, pattern) for v in head.values(name)):
                return False
        return True

    def selected(self, head: Head, stub: Stub) -> bool:
        """Whether this request is acted on: it matches, the count allows, the roll says so."""
        chance = self._chance
        if chance <= 0 or not self.matches(head):
            return False
        if self.count and self._budget.used >= self.count:
            return False
        if chance < 1 and stub.rng.random() >= chance:
            return False
        self._budget.used += 1
        return True

    def act(self, head: Head, entry: Entry, stub: Stub) -> None:
        """Fill in what to do with a selected request (answer it, delay its response)."""
        raise NotImplementedError

    def _judge(self, head: Head, stub: Stub) -> Entry:
        method = head.line[0].upper()
        upgrade = method == "CONNECT" or (
            head.has("upgrade") and "upgrade" in head.tokens("connection")
        )
        entry = Entry(method, upgrade=upgrade)
        if self.selected(head, stub):
            self.act(head, entry, stub)
        return entry

    # -- the request half --------------------------------------------------------------------

    async def _requests(self, stub: Stub, exchange: Exchange, state: _RequestState) -> None:
        try:
            while (chunk := await stub.read()) is not None:
                self._request_chunk(stub, exchange, state, chunk)
            self._flush(stub, state, b"", stub.now())
            stub.close()
        except asyncio.CancelledError:
            if state.held:
                # Held bytes must not be lost if this is a removal: send them, stand aside.
                self._flush(stub, state, b"", stub.now())
            raise

    def _request_chunk(
        self, stub: Stub, exchange: Exchange, state: _RequestState, chunk: Chunk
    ) -> None:
        """What becomes of one chunk from the client (never waits: held bytes stay in state)."""
        if state.framer.raw:
            self._flush(stub, state, chunk.data, chunk.timestamp)
        elif state.discard or exchange.closed:
            pass  # the connection is closing after a local answer
        elif state.midway and not starts_a_request(chunk.data):
            stub.send(chunk)  # joined midway: maybe inside a message, no request starts here
        elif exchange.waiting:
            state.held += chunk.data  # behind an upgrade request still unanswered
        elif self._frame_requests(stub, exchange, state, chunk):
            exchange.waiting = True
            exchange.on_release = lambda: self._released(stub, exchange, state)

    def _released(self, stub: Stub, exchange: Exchange, state: _RequestState) -> None:
        """An upgrade request has its answer: the bytes held behind it go on."""
        held, state.held = bytes(state.held), bytearray()
        if exchange.stand_aside or state.framer.raw:
            self._flush(stub, state, held, stub.now())
        elif held:
            self._request_chunk(stub, exchange, state, Chunk(held, stub.now()))

    @staticmethod
    def _flush(stub: Stub, state: _RequestState, data: bytes, timestamp: float) -> None:
        """Stand aside for good: what is held, then `data`, go on untouched."""
        data = _release(state, data)
        if data:
            stub.send(Chunk(data, timestamp))

    def _frame_requests(
        self, stub: Stub, exchange: Exchange, state: _RequestState, chunk: Chunk
    ) -> bool:
        """Judge and pass on the requests in a chunk; True if an upgrade must be answered first.

        What goes on leaves in one piece at the end; every request is in line before that.
        """
        state.midway = False
        data = chunk.data
        if not state.held and not exchange.stand_aside:
            head = state.framer.whole_request(data)
            if head is not None:  # one whole request with no body: the usual case
                entry = self._judge(head, stub)
                exchange.push(entry)
                if entry.local is None:
                    stub.send(chunk)
                    return entry.upgrade
                state.discard = entry.close
                return False
        out: list[bytes] = []
        last = 0
        current = state.current
        kept = 0 if current is None or current.local is None else -1
        """Where the bytes going on since the last cut start (-1: those here are dropped);
        bytes before `last` are dealt with."""
        try:
            for kind, pos, head in state.framer.feed(data):
                if kind is HEAD:
                    assert head is not None
                    if exchange.stand_aside:  # from this request on, bytes flow untouched
                        if 0 <= kept < last:
                            out.append(data[kept:last])
                        kept = -1
                        out.append(_release(state, data[last:]))
                        return False
                    entry = state.current = self._judge(head, stub)
                    exchange.push(entry)
                    if entry.local is None:
                        if state.held:  # the head began in an earlier chunk: nothing is out yet
                            out.append(bytes(state.held))
                        if kept < 0:
                            kept = last
                    else:
                        exchange.dropping = True
                        if 0 <= kept < last:
                            out.append(data[kept:last])
                        kept = -1
                    if state.held:
                        state.held = bytearray()
                elif kind is END:  # its body went on, or was dropped, with its head
                    ended, state.current = state.current, None
                    exchange.dropping = False
                    last = pos
                    if ended is not None and ended.local is not None and ended.close:
                        state.discard = True
                        return False
                    if ended is not None and ended.upgrade and ended.local is None:
                        state.held += data[pos:]
                        return True
                else:  # BAD
                    if 0 <= kept < last:
                        out.append(data[kept:last])
                    kept = -1
                    out.append(_release(state, data[last:]))
                    return False
                last = pos
            if state.framer.in_head:
                state.held += data[last:]
            else:
                last = len(data)  # the body in progress: it goes on, or is dropped, with its head
            return False
        finally:
            if kept == 0 and last == len(data) and not out:
                stub.send(chunk)  # all of it goes on: the usual case
            else:
                if 0 <= kept < last:
                    out.append(data[kept:last])
                if out:
                    stub.send(Chunk(b"".join(out), chunk.timestamp))

    # -- the response half -------------------------------------------------------------------

    async def _responses(self, stub: Stub, exchange: Exchange, state: _ResponseState) -> None:
        exchange.responder = stub
        exchange.busy = state.current is not None
        try:
            exchange.pump()
            while not exchange.closed and (chunk := await stub.read()) is not None:
                sends = self._frame_responses(exchange, state, chunk)
                await self._send(stub, exchange, state, sends)
            if exchange.closed:
                return
            # Upstream closed: answers still owed go out before the EOF.
            for entry in exchange.pending:
                if entry.local is not None:
                    stub.send(Chunk(entry.local, stub.now()))
            exchange.pending.clear()
            stub.close()
        finally:
            if exchange.responder is stub:
                exchange.responder = None

    def _frame_responses(
        self, exchange: Exchange, state: _ResponseState, chunk: Chunk
    ) -> list[_Send]:
        """What to send for a chunk of responses, in order, each with the time it is due.

        Every byte of the chunk is sent: cut where a local answer goes in between, or where
        what comes next is due at another time.
        """
        data, ts = chunk.data, chunk.timestamp
        if state.framer.raw:
            return [(data, ts, False, False)]
        if state.midway:
            if not exchange.pending:
                return [(data, ts, False, False)]  # the rest of an answer from before it joined
            state.midway = False  # a request judged since: its answer starts here
        if self._whole_answer(exchange, state, data):
            return [(data, ts, False, False)]
        pending = exchange.pending
        sends: list[_Send] = []
        cut, last, due = 0, 0, ts + state.delay
        """data[cut:last] is still to be sent, due at `due`; data[last:] is not framed yet."""
        for kind, pos, head in state.framer.feed(data):
            if pos > last:
                if (now_due := ts + state.delay) != due:
                    if last > cut:
                        sends.append((data[cut:last], due, False, due > ts))
                    cut, due = last, now_due
                if state.current is not None and state.current.first_byte:
                    state.delay = 0.0
                last = pos
            if kind is START:
                if pending and pending[0].local is not None:
                    cut = _owed(exchange, sends, data, cut, last, due, ts)
                entry = pending[0] if pending else _UNTRACKED
                state.current = entry
                state.framer.method = entry.method
                # A 1xx already began this answer: a first-byte delay is spent.
                state.delay = 0.0 if entry.started and entry.first_byte else entry.delay
                entry.started = True
            elif kind is HEAD:
                assert head is not None
                status = head.line[1]
                final = status[0] != "1" or status == "101"
                if final and pending and pending[0] is state.current:
                    pending.popleft()
                state.interim = not final
            elif kind is END:
                answered = state.current
                if state.framer.raw:  # switched protocols: both halves stand aside
                    exchange.stand_aside = True
                    exchange.release()
                elif state.interim:
                    continue
                elif answered is not None and answered.upgrade:
                    exchange.release()  # refused: HTTP goes on after it
                state.current, state.delay = None, 0.0
                if pending and pending[0].local is not None:
                    cut = _owed(exchange, sends, data, cut, last, due, ts)
            else:  # BAD: stand aside; answers owed are sent at once, in order
                exchange.stand_aside = True
                state.current, state.delay = None, 0.0
                if any(owed.local is not None for owed in pending):
                    if last > cut:
                        sends.append((data[cut:last], due, False, due > ts))
                    cut = last
                    for owed in pending:
                        if owed.local is not None:
                            sends.append((owed.local, ts, False, False))
                pending.clear()
                exchange.release()
        end = len(data)
        if end > last:
            if (now_due := ts + state.delay) != due:
                if last > cut:
                    sends.append((data[cut:last], due, False, due > ts))
                cut, due = last, now_due
            if state.current is not None and state.current.first_byte:
                state.delay = 0.0
        if end > cut:
            sends.append((data[cut:end], due, False, due > ts))
        exchange.busy = state.current is not None
        return sends

    @staticmethod
    def _whole_answer(exchange: Exchange, state: _ResponseState, data: bytes) -> bool:
        """`data` is the whole answer to the oldest request in line, with nothing delayed,
        upgraded or owed around it (the usual case): the request is answered, True."""
        pending = exchange.pending
        if not pending or state.current is not None or state.delay or state.framer.raw:
            return False
        entry = pending[0]
        if entry.local is not None or entry.delay or entry.upgrade:
            return False
        if len(pending) > 1 and pending[1].local is not None:
            return False  # its answer goes after this response: the long way does that
        state.framer.method = entry.method
        if not state.framer.whole_response(data):
            return False
        pending.popleft()
        entry.started = True
        exchange.busy = False
        state.midway = False
        return True

    @staticmethod
    async def _send(
        stub: Stub, exchange: Exchange, state: _ResponseState, sends: list[_Send]
    ) -> None:
        """Send in order, each piece no earlier than it is due; interrupted, send the rest now."""
        for i, send in enumerate(sends):
            if send[3] and (wait := send[1] - stub.now()) > 0:
                exchange.busy = state.sending = True
                try:
                    await stub.sleep(wait)
                except asyncio.CancelledError:
                    state.sending = False
                    for rest in sends[i:]:
                        if not _deliver(stub, exchange, rest):
                            break
                    raise
            if not _deliver(stub, exchange, send):
                state.sending = False
                return
        state.sending = False
        exchange.busy = state.current is not None
        exchange.pump()


_UNTRACKED = Entry("")
"""Stands for a response nobody in line asked for (e.g. a 408 before an idle close)."""


def _release(state: _RequestState, data: bytes) -> bytes:
    """The request half stands aside for good: what it held, then `data`."""
    if not state.framer.raw:
        state.framer.go_raw()
    if state.held:
        data, state.held = bytes(state.held) + data, bytearray()
    return data


_Send = tuple[bytes, float, bool, bool]
"""A piece to send: its bytes, when it is due, whether the connection closes after it, and
whether it is due later than the chunk it came in was read (then the clock must be asked)."""


def _owed(
    exchange: Exchange, sends: list[_Send], data: bytes, cut: int, last: int, due: float, ts: float
) -> int:
    """Local answers whose turn has come go after data[cut:last]; where the next piece starts."""
    if last > cut:
        sends.append((data[cut:last], due, False, due > ts))
    for entry in exchange.locals_due():
        assert entry.local is not None
        sends.append((entry.local, ts, entry.close, False))
    return last


def _deliver(stub: Stub, exchange: Exchange, send: _Send) -> bool:
    """Send one piece; False once the connection is closing."""
    data, due, close, _ = send
    stub.send(Chunk(data, due))
    if close:
        exchange.close(stub)
        return False
    return True
