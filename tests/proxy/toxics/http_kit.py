"""Real HTTP/1.1 on loopback for the HTTP toxics' tests: an upstream server and a raw client.

Both use h11 (a parser nobody here wrote), so the toxics are checked against an independent
reading of the protocol. The client writes raw bytes (pipelining, odd framing) and reads the
responses back with h11, one per request, in order.

Upstream routes: `/chunked?n=K` answers K chunks; `/split?ms=N` writes its head, then its
body N ms later (as servers that write them apart do); `/close` answers with Connection: close;
`/upgrade` switches to an echo protocol (101); `/big?size=N` answers N bytes; anything else
answers `METHOD TARGET #n body=LEN` (n counts requests on the connection). Every request it
gets is recorded in `received` as (method, target, body).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11

TIMEOUT = 10.0


@dataclasses.dataclass
class Received:
    method: str
    target: str
    body: bytes


class HttpUpstream:
    """An HTTP/1.1 server (h11) on a free loopback port; records every request it serves."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, h11.ProtocolError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        number = 0
        while True:
            request: h11.Request | None = None
            body = bytearray()
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    if conn.they_are_waiting_for_100_continue:
                        writer.write(
                            conn.send(h11.InformationalResponse(status_code=100, headers=[]))
                        )
                    conn.receive_data(await reader.read(65536))
                elif event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                    if request is None:
                        return
                    break
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            assert request is not None
            number += 1
            method, target = request.method.decode(), request.target.decode()
            self.received.append(Received(method, target, bytes(body)))
            if await self._respond(conn, reader, writer, request, number, bytes(body)):
                return
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()

    async def _respond(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        number: int,
        body: bytes,
    ) -> bool:
        """Answer one request; True if the connection is done with HTTP."""
        url = urlsplit(request.target.decode())
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        if url.path == "/upgrade" and "upgrade" in headers:
            switch = h11.InformationalResponse(
                status_code=101, headers=[("Upgrade", "echo"), ("Connection", "Upgrade")]
            )
            writer.write(conn.send(switch))
            leftover, _ = conn.trailing_data
            writer.write(leftover)
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            return True
        if url.path == "/chunked":
            writer.write(
                conn.send(h11.Response(status_code=200, headers=[("Transfer-Encoding", "chunked")]))
            )
            for i in range(int(query.get("n", "3"))):
                writer.write(conn.send(h11.Data(data=f"part {i};".encode())))
                await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()))
            return False
        if url.path == "/split":
            payload = b"the body, written apart"
            fields = [("Content-Length", str(len(payload)))]
            writer.write(conn.send(h11.Response(status_code=200, headers=fields)))
            await writer.drain()
            await asyncio.sleep(int(query.get("ms", "100")) / 1000)
            writer.write(conn.send(h11.Data(data=payload)) + conn.send(h11.EndOfMessage()))
            await writer.drain()
            return False
        if url.path == "/big":
            payload = b"x" * int(query.get("size", "1000000"))
        else:
            payload = f"{request.method.decode()} {url.path} #{number} body={len(body)}".encode()
        fields = [("Content-Length", str(len(payload)))]
        if url.path == "/close":
            fields.append(("Connection", "close"))
        writer.write(conn.send(h11.Response(status_code=200, headers=fields)))
        writer.write(conn.send(h11.Data(data=payload)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return False


@dataclasses.dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    interim: list[int] = dataclasses.field(default_factory=list)


def request(
    method: str = "GET",
    target: str = "/",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    chunked: bool = False,
    version: str = "HTTP/1.1",
) -> bytes:
    """The bytes of one request; Content-Length or chunked framing as asked."""
    fields = {"Host": "upstream", **(headers or {})}
    if chunked:
        fields["Transfer-Encoding"] = "chunked"
        # Odd-sized chunks with an extension: framing the toxic must follow, not guess.
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
        payload = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        if body or method in ("POST", "PUT"):
            fields["Content-Length"] = str(len(body))
        payload = body
    head = f"{method} {target} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode() + b"\r\n" + payload


class HttpClient:
    """One client connection: raw bytes out, responses parsed back by h11, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._h11 = h11.Connection(h11.CLIENT)

    def send(self, *requests: bytes) -> None:
        self.writer.write(b"".join(requests))

    async def reply(self, method: str = "GET", upgrade: bool = False) -> Reply:
        """The next response (to a request of `method`, that asked to `upgrade` or not).

        Interim 1xx statuses are collected on the way; a 101 ends the reply."""
        conn = self._h11
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        fields = [("Host", "upstream")]
        if upgrade:
            fields += [("Connection", "Upgrade"), ("Upgrade", "echo")]
        conn.send(h11.Request(method=method, target="/", headers=fields))
        conn.send(h11.EndOfMessage())
        interim: list[int] = []
        status, fields, body = 0, {}, bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
                conn.receive_data(data)
            elif isinstance(event, h11.InformationalResponse):
                interim.append(event.status_code)
                if event.status_code == 101:
                    return Reply(101, _fields(event.headers), b"", interim)
            elif isinstance(event, h11.Response):
                status, fields = event.status_code, _fields(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return Reply(status, fields, bytes(body), interim)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("closed before a complete response")

    async def replies(self, *methods: str) -> list[Reply]:
        return [await self.reply(m) for m in methods]

    @property
    def leftover(self) -> bytes:
        """Bytes h11 read past the last response (after a 101: the new protocol's)."""
        return self._h11.trailing_data[0]

    async def closed(self) -> bool:
        """True once the server side has closed (EOF), within the timeout."""
        with contextlib.suppress(ConnectionError):
            rest = self._h11.trailing_data[0] + await asyncio.wait_for(self.reader.read(), TIMEOUT)
            return rest == b""
        return True

    def close(self) -> None:
        self.writer.close()


def _fields(headers: Any) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in headers}
