"""host:port parsing, resolution and listening, with Go's wording for every failure."""

from __future__ import annotations

import errno
import ipaddress
import socket

from chaos.proxy.errors import ApiError

__all__ = ["BACKLOG", "AddressError", "bind", "format_address", "resolve", "split_host_port"]

# Pending-accept queue length, as Go asks for (the kernel caps it at net.core.somaxconn).
# Trap: asyncio's and uvloop's create_server(sock=...) call listen() again with their own
# default of 100, so pass this there too, or a burst of clients overflows the queue and the
# overflowing handshakes wait for SYN-ACK retransmits (seconds) before they are accepted.
BACKLOG = 4096

AddressError = ApiError("address error", 500)

_BIND_ERRORS = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied",
    errno.EADDRNOTAVAIL: "cannot assign requested address",
}


def split_host_port(address: str) -> tuple[str, str]:
    """Split like Go's net.SplitHostPort; errors read `address X: missing port in address`."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise AddressError(f"address {address}: missing ']' in address")
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            raise AddressError(f"address {address}: missing port in address")
        return host, rest[1:]
    if ":" not in address:
        raise AddressError(f"address {address}: missing port in address")
    host, _, port = address.rpartition(":")
    if ":" in host:
        raise AddressError(f"address {address}: too many colons in address")
    return host, port


def format_address(host: str, port: int) -> str:
    """host:port, with an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve(address: str) -> tuple[str, int]:
    """Resolve to (ip, port) like Go's ResolveTCPAddr; "" host means all interfaces ("::").

    An empty address is all interfaces on an ephemeral port: Go only splits a non-empty one.
    """
    host, port_text = split_host_port(address) if address else ("", "0")
    try:
        port = int(port_text) if port_text else 0
    except ValueError:
        raise AddressError(f"lookup tcp/{port_text}: unknown port") from None
    if not 0 <= port <= 65535:
        raise AddressError(f"address {port_text}: invalid port")
    if host == "":
        return "::", port
    try:
        return str(ipaddress.ip_address(host)), port
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressError(f"lookup {host}: no such host") from None
    # Go prefers IPv4 for names such as localhost.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0]), port


def bind(address: str) -> tuple[socket.socket, str]:
    """A listening socket for `address` and the address it really bound (port 0 resolved)."""
    try:
        ip, port = resolve(address)
    except ApiError as exc:
        raise AddressError(f"listen tcp: {exc.message}") from None
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and ip == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((ip, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = _BIND_ERRORS.get(exc.errno or 0, exc.strerror or str(exc)).lower()
        raise AddressError(f"listen tcp {format_address(ip, port)}: bind: {reason}") from None
    bound_port = sock.getsockname()[1]
    return sock, format_address(ip, bound_port)
