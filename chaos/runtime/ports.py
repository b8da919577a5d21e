"""Free loopback ports that parallel test processes (pytest-xdist workers) never hand out twice.

A port is *reserved* by holding an exclusive ``flock`` on ``<lock_dir>/port-<n>.lock``; every
allocator on the machine that shares the lock dir skips reserved ports. The kernel drops the lock
when the holding process dies, so a crashed worker leaves no stale reservation behind.

Ports come from a range *outside* the kernel's ephemeral range (``services_port_range()``;
20000-32767 on a default Linux), or from ``port_range="LOW-HIGH"`` / env ``CHAOS_PORT_RANGE``.
The trap this avoids: a broker or service that is crashed and restarted binds the same port
again, and while it is down, a port from the ephemeral range can be taken by any outgoing
connection or ``bind(0)`` on the machine (a reconnecting client can even connect to itself on
it). A CI run lost its broker that way: the restart failed with ``eaddrinuse``. The scan starts
at an offset derived from the pid, so workers rarely probe the same ports; each candidate must
be both unreserved and bindable. Only where no such range exists does the kernel choose.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

__all__ = [
    "PORT_RANGE_ENV",
    "PortAllocator",
    "PortExhausted",
    "allocate_port",
    "default_allocator",
    "parse_port_range",
    "services_port_range",
    "wait_for_port",
]

PORT_RANGE_ENV = "CHAOS_PORT_RANGE"
_LOOPBACK = "127.0.0.1"


class PortExhausted(RuntimeError):
    """No free, unreserved port was found."""


def parse_port_range(text: str) -> range:
    """Parse ``"LOW-HIGH"`` (inclusive) into a range of ports."""
    low_text, sep, high_text = text.strip().partition("-")
    hint = "expected 'LOW-HIGH' with 1 <= LOW <= HIGH <= 65535, e.g. '20000-30000'"
    if not sep:
        raise ValueError(f"port range {text!r} has no '-': {hint}")
    try:
        low, high = int(low_text), int(high_text)
    except ValueError as exc:
        raise ValueError(f"port range {text!r} is not two integers: {hint}") from exc
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"port range {text!r} is out of bounds or reversed: {hint}")
    return range(low, high + 1)


_EPHEMERAL_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_IANA_EPHEMERAL = range(49152, 65536)  # where there is no /proc (macOS, BSD)
_FLOOR = 20000  # clear of the well-known services below it
_MIN_PORTS = 1000


def _ephemeral_range(path: Path = _EPHEMERAL_FILE) -> range:
    """The ports the kernel hands out to outgoing connections and ``bind(0)``."""
    try:
        low, high = (int(n) for n in path.read_text().split())
    except (OSError, ValueError):
        return _IANA_EPHEMERAL
    return range(low, high + 1)


def services_port_range(ephemeral: range | None = None) -> range | None:
    """Ports for services that restart on the same port: outside `ephemeral`, or None if none is."""
    ephemeral = _ephemeral_range() if ephemeral is None else ephemeral
    below = range(_FLOOR, max(_FLOOR, ephemeral.start))
    above = range(max(_FLOOR, ephemeral.stop), 65536)
    best = max(below, above, key=len)
    return best if len(best) >= _MIN_PORTS else None


def _default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"pytest-chaos-ports-{os.getuid()}"


class PortAllocator:
    """Hands out loopback ports reserved against every allocator sharing ``lock_dir``."""

    def __init__(
        self,
        port_range: str | range | None = None,
        *,
        lock_dir: str | os.PathLike[str] | None = None,
        host: str = _LOOPBACK,
    ) -> None:
        if isinstance(port_range, str):
            port_range = parse_port_range(port_range)
        if port_range is not None and len(port_range) == 0:
            raise ValueError(f"port range {port_range!r} is empty: give at least one port")
        if port_range is None:
            port_range = services_port_range()
        self.port_range: range | None = port_range
        self.host = host
        self.lock_dir = Path(lock_dir) if lock_dir is not None else _default_lock_dir()
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._held: dict[int, int] = {}  # port -> fd holding its flock
        self._mutex = threading.Lock()

    @classmethod
    def from_env(cls, **kwargs: object) -> PortAllocator:
        """An allocator using ``CHAOS_PORT_RANGE`` if set, ``services_port_range()`` otherwise."""
        text = os.environ.get(PORT_RANGE_ENV)
        try:
            return cls(text or None, **kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"bad ${PORT_RANGE_ENV}: {exc}") from exc

    def allocate(self) -> int:
        """Reserve and return a free port; it stays reserved until ``release`` or process exit."""
        with self._mutex:
            if self.port_range is None:
                return self._allocate_ephemeral()
            return self._allocate_in_range(self.port_range)

    def release(self, port: int) -> None:
        """Drop the reservation of ``port`` (no-op if this allocator does not hold it)."""
        with self._mutex:
            fd = self._held.pop(port, None)
        if fd is not None:
            os.close(fd)

    def release_all(self) -> None:
        """Drop every reservation this allocator holds."""
        with self._mutex:
            fds, self._held = list(self._held.values()), {}
        for fd in fds:
            os.close(fd)

    @property
    def reserved(self) -> frozenset[int]:
        """Ports this allocator currently holds."""
        return frozenset(self._held)

    def _allocate_ephemeral(self) -> int:
        for _ in range(200):
            port = self._bind_probe(0)
            if port is not None and self._try_reserve(port):
                return port
        raise PortExhausted(
            f"no unreserved ephemeral port on {self.host} after 200 tries; "
            f"hint: check for stale lock holders in {self.lock_dir}"
        )

    def _allocate_in_range(self, ports: range) -> int:
        # A pid-derived start spreads concurrent workers across the range.
        start = random.Random(os.getpid() * 7919 + time.monotonic_ns()).randrange(len(ports))
        for i in range(len(ports)):
            port = ports[(start + i) % len(ports)]
            if port in self._held or not self._try_reserve(port):
                continue
            if self._bind_probe(port) == port:
                return port
            self._release_unlocked(port)
        raise PortExhausted(
            f"every port in {ports.start}-{ports.stop - 1} on {self.host} is in use or reserved; "
            f"hint: widen ${PORT_RANGE_ENV} or stop leftover services"
        )

    def _bind_probe(self, port: int) -> int | None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # Without SO_REUSEADDR a port in TIME_WAIT counts as busy, as it will for a service
            # that does not set it either.
            try:
                sock.bind((self.host, port))
            except OSError:
                return None
            return int(sock.getsockname()[1])

    def _try_reserve(self, port: int) -> bool:
        if port in self._held:
            return False
        fd = os.open(self.lock_dir / f"port-{port}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[port] = fd
        return True

    def _release_unlocked(self, port: int) -> None:
        fd = self._held.pop(port, None)
        if fd is not None:
            os.close(fd)


_default: PortAllocator | None = None
_default_mutex = threading.Lock()


def default_allocator() -> PortAllocator:
    """The process-wide allocator (configured from ``CHAOS_PORT_RANGE`` on first use)."""
    global _default
    with _default_mutex:
        if _default is None:
            _default = PortAllocator.from_env()
        return _default


def allocate_port() -> int:
    """Reserve a free loopback port from the process-wide allocator."""
    return default_allocator().allocate()


def wait_for_port(host: str, port: int, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Block until a TCP connect to ``host:port`` succeeds; raise ``TimeoutError`` otherwise."""
    if timeout <= 0:
        raise ValueError(f"timeout={timeout!r} must be > 0 seconds")
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            with socket.create_connection((host, port), timeout=min(1.0, remaining)):
                return
        except OSError as exc:
            last = exc
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    raise TimeoutError(
        f"nothing accepted TCP connections on {host}:{port} within {timeout:g}s "
        f"(last error: {last!r}); hint: is the service started and listening on that address?"
    )
