"""Request ids: xid format (20 base32hex characters), unique, ordered by time."""

from __future__ import annotations

import base64
import os
import re

from chaos.proxy.api._xid import new_xid


def test_format_and_fields() -> None:
    xid = new_xid(now=1_700_000_000)
    assert re.fullmatch(r"[0-9a-v]{20}", xid)
    raw = base64.b32hexdecode(xid.upper() + "====")
    assert len(raw) == 12
    assert int.from_bytes(raw[:4], "big") == 1_700_000_000
    assert int.from_bytes(raw[7:9], "big") == os.getpid() & 0xFFFF


def test_unique_and_sortable_by_time() -> None:
    ids = [new_xid() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert new_xid(now=1_000) < new_xid(now=2_000_000_000)
