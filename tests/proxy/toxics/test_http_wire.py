"""HTTP/1.1 framing: message boundaries in any split of the bytes, bodies never buffered."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from chaos.proxy.toxics._http_wire import MAX_HEAD, Framer, Kind, parse_head

from .http_kit import request

PIPELINE = (
    request("GET", "/a")
    + request("POST", "/b", body=b"x" * 20)
    + request("PUT", "/c", body=b"chunked body, odd sizes", chunked=True)
    + b"\r\n"  # a stray CRLF between requests is tolerated
    + b"GET /d HTTP/1.0\r\n\r\n"
)


def frame(framer: Framer, *pieces: bytes) -> list[tuple[str, int, str]]:
    """Events of feeding `pieces` one after another, with offsets into their concatenation."""
    out, base = [], 0
    for piece in pieces:
        for kind, pos, head in framer.feed(piece):
            label = head.line[1] if head is not None else framer.reason if kind is Kind.BAD else ""
            out.append((kind.value, base + pos, label))
        base += len(piece)
    return out


def test_pipelined_requests_are_told_apart() -> None:
    events = frame(Framer(request=True), PIPELINE)
    heads = [(pos, label) for kind, pos, label in events if kind == "head"]
    ends = [pos for kind, pos, _ in events if kind == "end"]
    assert [label for _, label in heads] == ["/a", "/b", "/c", "/d"]
    assert ends[-1] == len(PIPELINE)
    assert len(ends) == 4 and all(e >= h for (h, _), e in zip(heads, ends, strict=True))
    assert not [kind for kind, _, _ in events if kind == "start"]  # a request's start: unused


@given(st.lists(st.integers(0, len(PIPELINE)), max_size=12))
def test_any_split_gives_the_same_boundaries(cuts: list[int]) -> None:
    bounds = sorted(set(cuts))
    pieces = [PIPELINE[a:b] for a, b in zip([0, *bounds], [*bounds, len(PIPELINE)], strict=True)]
    assert frame(Framer(request=True), *pieces) == frame(Framer(request=True), PIPELINE)


def test_a_body_is_not_kept() -> None:
    framer = Framer(request=True)
    head = b"POST /up HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n"
    assert [kind for kind, _, _ in framer.feed(head)] == [Kind.HEAD]
    for _ in range(99):
        assert list(framer.feed(b"y" * 100_000)) == []
        assert not framer._buf
    kinds = [kind for kind, _, _ in framer.feed(b"y" * 100_000 + GET)]
    assert kinds == [Kind.END, Kind.HEAD, Kind.END]


GET = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


def responses(method: str, *data: bytes) -> list[tuple[str, int, str]]:
    framer = Framer(request=False)
    framer.method = method
    return frame(framer, *data)


def test_response_to_head_and_204_304_have_no_body() -> None:
    with_length = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    assert [k for k, _, _ in responses("HEAD", with_length)] == ["start", "head", "end"]
    for status in (b"204 No Content", b"304 Not Modified"):
        reply = b"HTTP/1.1 " + status + b"\r\n\r\n"
        assert [k for k, _, _ in responses("GET", reply)] == ["start", "head", "end"]


def test_interim_then_final_response() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    events = responses("POST", data)
    assert [(k, label) for k, _, label in events if k == "head"] == [
        ("head", "100"),
        ("head", "201"),
    ]
    assert events[-1] == ("end", len(data), "")


def test_a_response_without_length_lasts_until_close() -> None:
    framer = Framer(request=False)
    events = frame(framer, b"HTTP/1.0 200 OK\r\n\r\nstreamed", b" on and on")
    assert [k for k, _, _ in events] == ["start", "head"]
    assert framer.until_eof


@pytest.mark.parametrize(
    ("method", "reply"),
    [
        ("GET", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n\x81\x05hello"),
        ("CONNECT", b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01 tls"),
    ],
)
def test_a_switch_of_protocol_leaves_the_rest_raw(method: str, reply: bytes) -> None:
    framer = Framer(request=False)
    framer.method = method
    events = frame(framer, reply, b"GET / HTTP/1.1\r\n\r\n")
    assert [k for k, _, _ in events] == ["start", "head", "end"]
    assert framer.raw


def test_chunked_response_with_trailers() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\nX-T: 1\r\n\r\n"
    events = responses("GET", data[:30], data[30:51], data[51:])
    assert events[-1] == ("end", len(data), "")


@pytest.mark.parametrize(
    ("request_side", "data", "reason"),
    [
        (True, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "not HTTP/1.x"),
        (True, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "not a request line"),
        (True, b"HELLO there\r\n", "not a request line"),
        (True, b"HELLO / SMTP/1.0\r\n", "not HTTP/1.x"),
        (True, b"GET / HTTP/1.1\r\nbad header\r\n\r\n", "malformed header field"),
        (True, b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", "malformed header field"),
        (True, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"),
        (True, b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "is not a number"),
        # A latin-1 superscript is a digit to str.isdigit, but no number to int().
        (False, b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n", "is not a number"),
        (True, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "has no length"),
        (True, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (True, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "not followed"),
        (False, b"SSH-2.0-OpenSSH_9.6\r\n", "not a status line"),
        (False, b"\x00\x00", "not a status line"),
        (False, b"HTTP/1.1 20 OK\r\n\r\n", "not a status line"),
    ],
)
def test_what_cannot_be_framed_is_bad_once_then_raw(
    request_side: bool, data: bytes, reason: str
) -> None:
    framer = Framer(request=request_side)
    events = frame(framer, data)
    assert events[-1][0] == "bad" and reason in events[-1][2]
    assert framer.raw and frame(framer, GET) == []


def test_a_head_longer_than_the_limit_is_bad() -> None:
    framer = Framer(request=True)
    events = frame(framer, b"GET / HTTP/1.1\r\n", b"X-Big: " + b"a" * MAX_HEAD)
    assert events[-1][0] == "bad" and "head longer than" in events[-1][2]


def test_head_fields_and_keep_alive() -> None:
    head = parse_head(
        b"GET /x?q=1 HTTP/1.0\r\nConnection: Keep-Alive, foo\r\nX-A:  1 \r\nx-a: 2", True
    )
    assert head.line == ("GET", "/x?q=1", "HTTP/1.0")
    assert head.values("x-a") == ["1", "2"]
    assert head.keep_alive()
    assert not parse_head(b"GET / HTTP/1.0", True).keep_alive()
    assert not parse_head(b"GET / HTTP/1.1\r\nConnection: close", True).keep_alive()
    assert parse_head(b"HTTP/1.1 404 Not Found", False).line == ("HTTP/1.1", "404", "Not Found")


WHOLE_CASES = [
    (True, "GET", GET),
    (True, "GET", b"GET /x?q HTTP/1.0\r\nConnection: keep-alive\r\nX-A: \xe9t\xe9\r\n\r\n"),
    (True, "GET", b"POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"),  # a body: feed's
    (True, "GET", b"POST /b HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
    (True, "GET", b"GET / HTTP/1.1\n\n"),  # bare LFs
    (True, "GET", b"\r\nGET / HTTP/1.1\r\n\r\n"),  # a stray CRLF first
    (True, "GET", GET + GET),
    (True, "GET", GET[:-1]),
    (True, "GET", b"GET / HTTP/1.1\r\nbad header\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200\r\nContent-Length:2 \r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok!"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 200 OK\r\n\r\nuntil the end"),
    (False, "GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 100 Continue\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n"),
    (False, "HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
    (False, "CONNECT", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    (False, "GET", b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n"),
]


@pytest.mark.parametrize(("request_side", "method", "data"), WHOLE_CASES)
def test_whole_is_feed_in_one_step_or_nothing(request_side: bool, method: str, data: bytes) -> None:
    """`whole_*` gives what `feed` would for one message that is all of the bytes, or declines."""
    framer, reference = Framer(request_side), Framer(request_side)
    framer.method = reference.method = method
    head = framer.whole_request(data) if request_side else None
    whole = head is not None if request_side else framer.whole_response(data)
    events = list(reference.feed(data))
    one = [kind for kind, _, _ in events if kind is not Kind.START] == [Kind.HEAD, Kind.END]
    if not whole:  # declined (not one whole message, or not one it takes): nothing changed
        fresh = Framer(request_side)
        fresh.method = method
        assert frame(framer, data) == frame(fresh, data)
        return
    assert one and events[-1][1] == len(data) and reference.in_head
    expected = events[[kind for kind, _, _ in events].index(Kind.HEAD)][2]
    assert expected is not None
    if head is not None:
        assert head.line == expected.line
        assert head.values("x-a") == expected.values("x-a")
    else:
        assert expected.line[1] >= "200"
    # Still at the boundary, nothing kept:
    assert framer.whole_request(data) is not None if request_side else framer.whole_response(data)
