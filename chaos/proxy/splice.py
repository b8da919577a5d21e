"""Zero-copy forwarding for a link with no toxic: socket -> pipe -> socket with os.splice.

A link that has moved `SPLICE_AFTER` bytes with no toxic (a bulk transfer, not a ping-pong)
hands its two sockets to a Splicer: the source transport stops reading, and bytes move
inside the kernel through a pipe, never copied into Python, once the destination transport
has written what it still buffered. Whatever ends it (a toxic added,
the connection closing, EOF or an error on either socket) calls `stop()`, which returns the
bytes still in the pipe: read from the source, not yet written, so never dropped. The link
writes those on and lets its transport read again; a transport that reads again meets the
EOF or the error itself, and the connection closes exactly as it does without splicing.

Trap: the splicer works on duplicates of the sockets' fds (uvloop refuses a reader on a
transport's own fd), and a duplicate keeps a socket open: every close or reset of a
connection stops its splicers first, or no FIN (nor RST) would leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sys
from collections.abc import Callable

__all__ = ["SPLICE_AFTER", "Splicer", "available"]

SPLICE_AFTER = 4 * 1024 * 1024
"""Bytes a link forwards the usual way before it splices (small exchanges never do)."""
PIPE_SIZE = 1024 * 1024
_F_SETPIPE_SZ = 1031
_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)


def available() -> bool:
    """Whether this platform has os.splice (Linux, Python 3.10+)."""
    return sys.platform == "linux" and hasattr(os, "splice")


class Splicer:
    """Moves bytes from one socket fd to another through a pipe, on the running loop."""

    def __init__(
        self,
        source_fd: int,
        dest_fd: int,
        moved_in: Callable[[int], None],
        moved_out: Callable[[int], None],
        ended: Callable[[], None],
        dest_pending: Callable[[], int],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._dest_pending = dest_pending
        self._moved_in, self._moved_out, self._ended = moved_in, moved_out, ended
        fds: list[int] = []
        try:
            fds.append(os.dup(source_fd))
            fds.append(os.dup(dest_fd))
            fds.extend(os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        self._src, self._dst, self._r, self._w = fds
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: the default
            fcntl.fcntl(self._w, _F_SETPIPE_SZ, PIPE_SIZE)
        self._in_pipe = 0
        self._reading = self._writing = False
        self.active = True

    def start(self) -> None:
        self._read(True)

    def _read(self, on: bool) -> None:
        if on and not self._reading:
            self._loop.add_reader(self._src, self._on_readable)
        elif not on and self._reading:
            self._loop.remove_reader(self._src)
        self._reading = on

    def _write(self, on: bool) -> None:
        if on and not self._writing:
            self._loop.add_writer(self._dst, self._flush)
        elif not on and self._writing:
            self._loop.remove_writer(self._dst)
        self._writing = on

    def _on_readable(self) -> None:
        try:
            n = os.splice(self._src, self._w, PIPE_SIZE, flags=_FLAGS)
        except BlockingIOError:
            return  # woken for nothing
        except OSError:
            n = 0  # the transport, reading again, meets the error itself
        if n == 0:
            self._end()
            return
        self._in_pipe += n
        self._moved_in(n)
        self._flush()

    def _flush(self) -> None:
        if self._in_pipe and self._dest_pending():
            # The transport still writes bytes read before the splice: they go first. Its
            # loop flushes them when the socket is writable, which wakes this writer too.
            self._read(False)
            self._write(True)
            return
        while self._in_pipe:
            try:
                n = os.splice(self._r, self._dst, self._in_pipe, flags=_FLAGS)
            except BlockingIOError:
                # The destination is full: stop reading until it drains (backpressure).
                self._read(False)
                self._write(True)
                return
            except OSError:
                self._end()
                return
            self._in_pipe -= n
            self._moved_out(n)
        self._write(False)
        self._read(True)

    def _end(self) -> None:
        if self.active:
            self._ended()

    def stop(self) -> bytes:
        """Stop and release the fds; returns what was read but not yet written (idempotent)."""
        if not self.active:
            return b""
        self.active = False
        self._read(False)
        self._write(False)
        left = []
        while self._in_pipe > 0:
            try:
                data = os.read(self._r, self._in_pipe)
            except BlockingIOError:
                break
            if not data:
                break
            left.append(data)
            self._in_pipe -= len(data)
        for fd in (self._src, self._dst, self._r, self._w):
            os.close(fd)
        return b"".join(left)
