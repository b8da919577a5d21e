"""Request ids in the xid format Toxiproxy uses: 12 bytes, 20 base32hex characters."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import random
import socket
import struct
import time

__all__ = ["new_xid"]

_MACHINE = hashlib.md5(socket.gethostname().encode(), usedforsecurity=False).digest()[:3]
_COUNTER = itertools.count(random.randrange(1 << 24))


def new_xid(now: float | None = None) -> str:
    """A new id: time, machine, pid, counter (sortable by time, unique per process)."""
    seconds = int(time.time() if now is None else now) & 0xFFFFFFFF
    raw = (
        struct.pack(">I", seconds)
        + _MACHINE
        + struct.pack(">H", os.getpid() & 0xFFFF)
        + (next(_COUNTER) & 0xFFFFFF).to_bytes(3, "big")
    )
    return base64.b32hexencode(raw).decode().lower().rstrip("=")
