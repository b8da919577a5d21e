from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chaos.runtime import ports as ports_module
from chaos.runtime.ports import (
    PortAllocator,
    PortExhausted,
    parse_port_range,
    services_port_range,
    wait_for_port,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20000-30000", range(20000, 30001)), (" 5-5 ", range(5, 6)), ("1-65535", range(1, 65536))],
)
def test_parse_port_range_accepts_inclusive_ranges(text: str, expected: range) -> None:
    assert parse_port_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("20000", "has no '-'"),
        ("a-b", "not two integers"),
        ("30000-20000", "out of bounds or reversed"),
        ("0-10", "out of bounds"),
        ("10-70000", "out of bounds"),
    ],
)
def test_parse_port_range_rejects_bad_input_naming_it(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        parse_port_range(text)
    assert repr(text) in str(info.value)
    assert "20000-30000" in str(info.value)  # the hint shows a valid example


def test_bad_env_range_is_reported_with_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHAOS_PORT_RANGE", "nope")
    with pytest.raises(ValueError, match=r"CHAOS_PORT_RANGE"):
        PortAllocator.from_env(lock_dir=tmp_path)


@pytest.mark.parametrize(
    ("ephemeral", "expected"),
    [
        (range(32768, 61000), range(20000, 32768)),  # Linux's default
        (range(49152, 65536), range(20000, 49152)),  # IANA's, macOS's
        (range(1024, 40000), range(40000, 65536)),  # nothing below: above it
        (range(1024, 65536), None),  # no room: the kernel chooses
        (range(20500, 65000), None),  # 500 below, 536 above: too few either way
    ],
)
def test_services_ports_avoid_the_ephemeral_range(ephemeral: range, expected: range | None) -> None:
    assert services_port_range(ephemeral) == expected


def test_ephemeral_range_is_read_from_the_kernel(tmp_path: Path) -> None:
    table = tmp_path / "ip_local_port_range"
    table.write_text("32768\t60999\n")
    assert ports_module._ephemeral_range(table) == range(32768, 61000)
    assert ports_module._ephemeral_range(tmp_path / "missing") == range(49152, 65536)


def test_default_ports_are_distinct_bindable_and_never_ephemeral(tmp_path: Path) -> None:
    # The ephemeral range is what a crashed broker's port is lost to while it is down.
    ephemeral = ports_module._ephemeral_range()
    allocator = PortAllocator(lock_dir=tmp_path)
    assert allocator.port_range == services_port_range(ephemeral)
    ports = [allocator.allocate() for _ in range(20)]
    assert len(set(ports)) == 20
    assert not [p for p in ports if p in ephemeral]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0]))


def test_without_room_outside_the_ephemeral_range_the_kernel_chooses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ports_module, "services_port_range", lambda: None)
    allocator = PortAllocator(lock_dir=tmp_path)
    assert allocator.port_range is None
    ports = {allocator.allocate() for _ in range(5)}
    assert len(ports) == 5 and ports == allocator.reserved


def test_two_allocators_sharing_a_lock_dir_never_share_a_port(tmp_path: Path) -> None:
    first, second = PortAllocator(lock_dir=tmp_path), PortAllocator(lock_dir=tmp_path)
    got: list[int] = []
    lock = threading.Lock()

    def grab(allocator: PortAllocator) -> None:
        for _ in range(25):
            port = allocator.allocate()
            with lock:
                got.append(port)

    threads = [threading.Thread(target=grab, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 50
    assert len(set(got)) == 50


def _free_block(size: int) -> range:
    """A block of ``size`` currently bindable ports above 20000 (best effort)."""
    for start in range(21000, 29000, size + 7):
        block = range(start, start + size)
        try:
            socks = []
            for port in block:
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return block
    pytest.skip("no free block of loopback ports found between 21000 and 29000")


def test_range_mode_exhausts_with_a_clear_error_and_release_frees(tmp_path: Path) -> None:
    block = _free_block(3)
    allocator = PortAllocator(f"{block.start}-{block.stop - 1}", lock_dir=tmp_path)
    ports = {allocator.allocate() for _ in range(3)}
    assert ports == set(block)
    with pytest.raises(PortExhausted, match=f"{block.start}-{block.stop - 1}"):
        allocator.allocate()
    allocator.release(block.start)
    assert allocator.allocate() == block.start


def test_range_mode_skips_ports_in_use(tmp_path: Path) -> None:
    block = _free_block(2)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", block.start))
        busy.listen()
        allocator = PortAllocator(f"{block.start}-{block.stop - 1}", lock_dir=tmp_path)
        assert allocator.allocate() == block.start + 1


@pytest.mark.timeout(30)
def test_reservation_held_by_another_process_is_skipped(tmp_path: Path) -> None:
    block = _free_block(2)
    code = (
        "import sys; from chaos.runtime.ports import PortAllocator\n"
        f"a = PortAllocator('{block.start}-{block.start}', lock_dir=sys.argv[1])\n"
        "print(a.allocate(), flush=True); sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert int(holder.stdout.readline()) == block.start
        allocator = PortAllocator(f"{block.start}-{block.stop - 1}", lock_dir=tmp_path)
        assert allocator.allocate() == block.start + 1
    finally:
        holder.communicate("", timeout=20)
    # The holder exited: the kernel dropped its lock, so the port is free to reserve again.
    again = PortAllocator(f"{block.start}-{block.start}", lock_dir=tmp_path)
    assert again.allocate() == block.start


def test_constructor_rejects_empty_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        PortAllocator(range(10, 10), lock_dir=tmp_path)


def test_wait_for_port_returns_once_listening() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        wait_for_port("127.0.0.1", server.getsockname()[1], timeout=5)


def test_wait_for_port_times_out_with_the_address_and_last_error(tmp_path: Path) -> None:
    port = PortAllocator(lock_dir=tmp_path).allocate()  # reserved, and nothing listens there
    with pytest.raises(TimeoutError, match=f"127.0.0.1:{port}.*ConnectionRefused"):
        wait_for_port("127.0.0.1", port, timeout=0.3)


def test_wait_for_port_rejects_non_positive_timeout() -> None:
    with pytest.raises(ValueError, match="timeout=0"):
        wait_for_port("127.0.0.1", 1, timeout=0)
