"""host:port parsing, resolution and binding, with Go's semantics and wording."""

from __future__ import annotations

import socket

import pytest

from chaos.proxy.address import bind, format_address, resolve, split_host_port
from chaos.proxy.errors import ApiError


def test_empty_address_resolves_to_all_interfaces_on_an_ephemeral_port() -> None:
    assert resolve("") == ("::", 0)
    assert resolve(":0") == ("::", 0)


@pytest.mark.parametrize("address", ["", ":0"])
def test_bind_empty_listens_on_all_interfaces(address: str) -> None:
    sock, bound = bind(address)
    try:
        host, port = split_host_port(bound)
        assert host == "::" and bound == f"[::]:{port}" and int(port) > 0
        # Dual stack: an IPv4 client reaches it too, as with Go's listener on "".
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5):
            pass
    finally:
        sock.close()


def test_bind_missing_port_keeps_gos_wording() -> None:
    with pytest.raises(ApiError) as info:
        bind("bogus")
    assert info.value.message == "listen tcp: address bogus: missing port in address"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [("127.0.0.1", 80, "127.0.0.1:80"), ("::1", 80, "[::1]:80"), ("::", 0, "[::]:0")],
)
def test_format_address_brackets_ipv6(host: str, port: int, expected: str) -> None:
    assert format_address(host, port) == expected
    assert split_host_port(expected) == (host, str(port))
