"""One direction of one proxied connection: source -> chain of toxic stubs -> sink.

With no toxic, bytes read are written straight to the destination (no queue, no task, no
copy); past `splice.SPLICE_AFTER` bytes they move inside the kernel instead (see `splice`),
until a toxic comes. With toxics, each toxic runs as a task between two queues::

    feed() -> [q0] -> toxic 0 -> [q1] -> toxic 1 -> sink -> destination.write()

Changing the toxics cancels every task of the link, waits for them (a cancelled toxic passes
on what it holds), collects what is still queued, oldest first, and re-feeds it into the new
chain (or straight to the destination). Latency is measured from the time a chunk was read, so
re-fed chunks are not delayed twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from chaos.proxy import splice
from chaos.proxy.flow import Flow
from chaos.proxy.stream import EOF, Chunk, ChunkQueue
from chaos.proxy.stub import Clock, LoopClock, Stub
from chaos.proxy.toxics import Toxic
from chaos.proxy.toxics.noop import passthrough

if TYPE_CHECKING:
    from chaos.proxy.collection import ToxicSpec

__all__ = ["HIGH_WATER", "LOW_WATER", "Link"]

log = logging.getLogger(__name__)

# Bytes queued inside a link's chain before the source stops being read (and when it resumes).
HIGH_WATER = 8 * 1024 * 1024
LOW_WATER = 2 * 1024 * 1024


class Writer(Protocol):
    """The destination as a link sees it (an asyncio transport fits)."""

    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...


class Link:
    """Moves bytes from a source to a destination through the toxics of one stream."""

    def __init__(
        self,
        stream: str,
        source: Flow,
        dest: Writer,
        on_eof: Callable[[], None],
        on_reset: Callable[[], None],
        rng: random.Random,
        clock: Clock | None = None,
        shared: dict[Any, Any] | None = None,
    ) -> None:
        self.stream = stream
        self.source = source
        self.dest = dest
        self._on_eof = on_eof
        self._on_reset = on_reset
        self.rng = rng
        self.clock: Clock = clock or LoopClock()
        self.specs: tuple[ToxicSpec, ...] = ()
        self.states: dict[str, Any] = {}
        self.shared: dict[Any, Any] = {} if shared is None else shared
        """State of the whole connection, one dict for both its links (see `Stub.shared`)."""
        self.applied: list[tuple[str, str, bool]] = []
        self._head: ChunkQueue | None = None
        self._inline: Callable[[Chunk], bool] | None = None
        """The first toxic's synchronous path, if it has one (see `Toxic.inline`)."""
        self._queues: list[ChunkQueue] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.buffered = 0
        self.received_bytes = self.received_chunks = 0
        self.sent_bytes = self.sent_chunks = 0
        self.source_eof = False
        self.done = False
        self.cancelled = False
        self._splice_fds: tuple[int, int] | None = None
        self._splicer: splice.Splicer | None = None

    # -- zero copy -------------------------------------------------------------------------

    def enable_splice(self, source_fd: int, dest_fd: int) -> None:
        """Let this link splice these sockets once it has moved enough with no toxic."""
        if splice.available():
            self._splice_fds = (source_fd, dest_fd)

    @property
    def splicing(self) -> bool:
        return self._splicer is not None

    def _maybe_splice(self) -> None:
        fds = self._splice_fds
        if fds is None or self._splicer is not None or self.sent_bytes < splice.SPLICE_AFTER:
            return
        if self._lock.locked():
            return  # a chain is being replaced: a toxic may be coming
        # The splicer lets the bytes the transport still buffers go first.
        pending = getattr(self.dest, "get_write_buffer_size", None)
        if pending is None or self.done or self.source_eof or self.dest.is_closing():
            return
        try:
            splicer = splice.Splicer(
                *fds, self._spliced_in, self._spliced_out, self._splice_ended, pending
            )
        except OSError as exc:
            log.info("cannot splice a %s link (%s): it copies", self.stream, exc)
            self._splice_fds = None
            return
        self._splicer = splicer
        self.source.pause("splice")
        splicer.start()

    def _spliced_in(self, n: int) -> None:
        self.received_bytes += n
        self.received_chunks += 1

    def _spliced_out(self, n: int) -> None:
        self.sent_bytes += n
        self.sent_chunks += 1

    def _splice_ended(self) -> None:
        # EOF or an error: the transport, reading again, meets it; never splice again.
        self._splice_fds = None
        self.stop_splice()

    def stop_splice(self) -> None:
        """Back to the transports: what the pipe holds is written on, then reading resumes."""
        splicer, self._splicer = self._splicer, None
        if splicer is None:
            return
        left = splicer.stop()
        if left:
            # Read before any toxic now coming: without splicing it would have been written.
            self._deliver_data(left)
        self.source.resume("splice")

    # -- data path -------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes read from the source."""
        self.received_bytes += len(data)
        self.received_chunks += 1
        if self._head is None:
            self._deliver_data(data)
            self._maybe_splice()
            return
        chunk = Chunk(data, self.clock.now())
        if self._inline is None or self._head.items or not self._inline(chunk):
            self._head.put(chunk)

    def feed_eof(self) -> None:
        """The source ended (EOF, error or closed)."""
        self.stop_splice()
        if self.source_eof:
            return
        self.source_eof = True
        if self._head is None:
            self._deliver(EOF)
        else:
            self._head.put(EOF)

    def _deliver(self, item: Chunk | None) -> None:
        if item is None:
            if not self.done:
                self.done = True
                self._on_eof()
        else:
            self._deliver_data(item.data)

    def _deliver_data(self, data: bytes) -> None:
        # After EOF or once the destination is gone there is nobody left to write to.
        if self.done or self.dest.is_closing():
            return
        self.sent_bytes += len(data)
        self.sent_chunks += 1
        self.dest.write(data)

    def put(self, item: Chunk | None) -> None:
        """The sink end of the chain: the last stub sends here."""
        if item is None:
            self._deliver(item)
        elif not (self.done or self.dest.is_closing()):  # _deliver_data, one call less
            self.sent_bytes += len(item.data)
            self.sent_chunks += 1
            self.dest.write(item.data)

    def _buffer_changed(self, delta: int) -> None:
        self.buffered += delta
        if self.buffered > HIGH_WATER:
            self.source.pause("buffer")
        elif self.buffered < LOW_WATER:
            self.source.resume("buffer")

    # -- toxics ----------------------------------------------------------------------------

    def start(self, specs: Sequence[ToxicSpec]) -> None:
        """Build the first chain of a new connection."""
        self._build(tuple(specs), [])

    def roll(self, specs: Sequence[ToxicSpec]) -> tuple[bool, ...]:
        """Toxicity rolls for a chain: whether each toxic runs (True) or passes data through."""
        return tuple(self.rng.random() < spec.toxicity for spec in specs)

    async def update(
        self,
        specs: Sequence[ToxicSpec],
        close_after: bool = False,
        active: Sequence[bool] | None = None,
    ) -> None:
        """Replace the chain; with `close_after`, end the stream once queued data is written.

        Queued data goes back where it was waiting: before the same toxic (by name) in the new
        chain, or, if that toxic is gone, before the next one downstream that remains, so no
        toxic sees the same bytes twice. `active` are rolls made by the caller (see `roll`);
        without them the link rolls once its old toxics have stopped.
        """
        self.stop_splice()  # a toxic may come: bytes go through the chain again
        async with self._lock:
            self._inline = None  # the old chain is going: everything waits for the new one
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            if self.cancelled:
                # The connection closed while the old toxics stopped: a new chain would wait
                # forever on a dead link (and its tasks be garbage-collected while pending).
                return
            old_specs, old_queues = self.specs, self._queues
            self._build(tuple(specs), [], active)
            where = {spec.name: queue for spec, queue in zip(self.specs, self._queues, strict=True)}
            # Later queues hold older data: they are emptied first.
            for i in reversed(range(len(old_queues))):
                items = old_queues[i].drain()
                dest = next((where[s.name] for s in old_specs[i:] if s.name in where), None)
                for item in items:
                    if dest is None:
                        self._deliver(item)
                    else:
                        dest.put(item)
            if close_after:
                if self._head is None:
                    self._deliver(EOF)
                else:
                    self._head.put(EOF)

    def _build(
        self,
        specs: tuple[ToxicSpec, ...],
        pending: list[Chunk | None],
        active: Sequence[bool] | None = None,
    ) -> None:
        # Toxicity is rolled each time a toxic starts on a link, as Toxiproxy does.
        rolls = self.roll(specs) if active is None else tuple(active)
        if len(rolls) != len(specs):
            raise ValueError(f"{len(rolls)} toxicity rolls for a chain of {len(specs)} toxics")
        if specs:
            self.stop_splice()  # never splice past a toxic
        self.specs = specs
        self._inline = None
        self._tasks.clear()
        self.applied = []
        names = {spec.name for spec in specs}
        self.states = {k: v for k, v in self.states.items() if k in names}
        if not specs:
            self._head, self._queues = None, []
            for item in pending:
                self._deliver(item)
            return
        self._queues = [ChunkQueue(self._buffer_changed) for _ in specs]
        self._head = self._queues[0]
        for item in pending:
            self._head.put(item)
        for i, spec in enumerate(specs):
            output = self._queues[i + 1] if i + 1 < len(specs) else self
            if spec.name not in self.states:
                midway = self.received_bytes > 0  # the toxic joins a stream under way
                self.states[spec.name] = spec.toxic.new_state(midway=midway)
            state = self.states[spec.name]
            stub = Stub(self._queues[i], output, self, self.rng, self.clock, state, self.shared)
            self.applied.append((spec.name, spec.toxic.type, rolls[i]))
            if i == 0 and rolls[0] and type(spec.toxic).inline is not Toxic.inline:
                self._inline = functools.partial(spec.toxic.inline, stub)
            task = asyncio.get_running_loop().create_task(self._run(spec, stub, rolls[i]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, spec: ToxicSpec, stub: Stub, active: bool) -> None:
        try:
            if active:
                await spec.toxic.pipe(stub)
            else:
                await passthrough(stub)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A broken toxic must not leave a connection wedged: drop it loudly.
            log.exception(
                "toxic %s (%s) failed on a %s link", spec.name, spec.toxic.type, self.stream
            )
            self.reset()

    def reset(self) -> None:
        """Abort the whole connection with RST."""
        self._on_reset()

    def cancel(self) -> None:
        """Stop every toxic task now (the connection is gone); no chain is built after this."""
        self.cancelled = True
        self._inline = None
        self.stop_splice()
        for task in list(self._tasks):
            task.cancel()
