"""HTTP/1.1 message framing, incremental: where each request or response starts and ends.

The framer never buffers a body: it reports positions in the bytes it is fed (a message
starts, its head is complete, it ends) and keeps only a copy of a head or chunk-size line
being read, to parse it. Whoever feeds it decides what to do with the bytes in between.

Anything it cannot frame with certainty (not HTTP/1.x, a malformed head, bad chunk sizes,
conflicting lengths) is reported once as `BAD`; the framer then stays `raw` for good, and its
user stands aside. After a response that switches protocols (101, or 2xx to CONNECT) it is
raw too: the bytes that follow are not HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum

__all__ = ["MAX_HEAD", "Event", "Framer", "Head", "Kind"]

MAX_HEAD = 64 * 1024
"""Longest head (start line and headers) or trailer section accepted; longer is BAD."""
MAX_LINE = 4096
"""Longest chunk-size line (with extensions) accepted."""

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VERSIONS = ("HTTP/1.1", "HTTP/1.0")


class Kind(Enum):
    START = "start"
    """The first byte of a response (leading blank lines count as its bytes)."""
    HEAD = "head"
    """The head is complete (`head`); `pos` is just after its blank line."""
    END = "end"
    """The message is complete."""
    BAD = "bad"
    """Not HTTP the framer can follow; its `reason` says why. Everything from here on is raw."""


class Head:
    """A parsed start line, and the header fields as read (each found when asked for).

    Validated whole when parsed, but no field is split out until asked for: most heads are
    only asked for the few fields that frame them, and usually have none of them.
    """

    __slots__ = ("_lower", "_raw", "line")

    def __init__(self, line: tuple[str, str, str], raw: str = "") -> None:
        self.line = line
        """Request: method, target, version. Response: version, status, reason."""
        self._raw = raw
        """The header lines, each after its LF (so empty, or starting with LF), as latin-1."""
        self._lower = raw.lower()
        """The same, lowercased (every latin-1 character stays one character)."""

    def has(self, name: str) -> bool:
        """Whether a header field is present, by its lowercase name."""
        return f"\n{name}:" in self._lower

    def values(self, name: str) -> list[str]:
        """Every value of a header field, by its lowercase name, in order (stripped)."""
        key = f"\n{name}:"
        lower = self._lower
        at = lower.find(key)
        found = []
        while at >= 0:
            start = at + len(key)
            end = lower.find("\n", start)
            if end < 0:
                end = len(lower)
            found.append(self._raw[start:end].removesuffix("\r").strip(" \t"))
            at = lower.find(key, end)
        return found

    def tokens(self, name: str) -> list[str]:
        """The comma-separated, lowercased tokens of a header field (`Connection: a, b`)."""
        values = self.values(name)
        if not values:
            return []
        return [t.strip().lower() for v in values for t in v.split(",") if t.strip()]

    @property
    def version(self) -> str:
        return self.line[2] if self.line[2].startswith("HTTP/") else self.line[0]

    def keep_alive(self) -> bool:
        """Whether the connection stays open after this message (RFC 9112 §9.3)."""
        tokens = self.tokens("connection")
        if "close" in tokens:
            return False
        return self.version == "HTTP/1.1" or "keep-alive" in tokens


Event = tuple[Kind, int, "Head | None"]
"""What `Framer.feed` yields: (kind, pos, head). `pos` is the offset in the bytes just fed:
where the message starts, or just after its head or its end; `head` comes with HEAD only.
Plain tuples: a framer yields a few for each message, on every request's path."""

START, HEAD, END, BAD = Kind.START, Kind.HEAD, Kind.END, Kind.BAD


class BadHttp(Exception):
    """What the framer cannot follow."""


# The framer's states: plain ints (naming an Enum member costs a lookup, every time).
_HEAD, _LENGTH, _CHUNK_LINE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILER, _UNTIL_EOF, _RAW = range(8)


_FIELD_LINE = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\n]*"
_FIELDS = re.compile(f"(?:\n{_FIELD_LINE})*")
"""Header lines, each after its LF: `name:value` (a CR before the LF ends up in the value,
which is stripped of it); anything else, obsolete line folding included, is malformed."""
_REQUEST = re.compile(
    r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) (HTTP/1\.[01])\r?(" + _FIELDS.pattern + ")"
)
_RESPONSE = re.compile(r"(HTTP/1\.[01]) ([0-9]{3})(?: ([ -~]*))?\r?(" + _FIELDS.pattern + ")")
"""Heads as usual, whole: a head one of them matches is valid; `_parse` decides the others."""
_CRLF_FIELDS = rb"((?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*)*)\r\n\r\n"
_USUAL_REQUEST = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) (HTTP/1\.[01])" + _CRLF_FIELDS
)
_USUAL_RESPONSE = re.compile(rb"(HTTP/1\.[01]) ([0-9]{3})(?: ([ -~]*))?" + _CRLF_FIELDS)
"""The same, with CRLFs only and with the blank line after them, in the bytes as read: a
head in one chunk, as most are, is found and parsed in one step."""
_CONTENT_LENGTH = re.compile(r"\ncontent-length:[ \t]*(.*?)[ \t]*\r?(?=\n|\Z)")
"""Every value of Content-Length in a head's lowercased fields."""
_CONTENT_LENGTH_BYTES = re.compile(_CONTENT_LENGTH.pattern.encode())


def starts_a_request(data: bytes) -> bool:
    """`data` begins with a whole request head, written as most are (CRLFs, one chunk)."""
    return _USUAL_REQUEST.match(data.lstrip(b"\r\n")) is not None


def parse_head(data: bytes, request: bool) -> Head:
    """A head without its final blank line; raises BadHttp."""
    text = data.decode("latin-1")
    match = (_REQUEST if request else _RESPONSE).fullmatch(text)
    if match is None:
        return _parse(text, request)
    first, second, third, fields = match.groups()
    return Head((first, second, third or ""), fields)


def _parse(text: str, request: bool) -> Head:
    """Any head, line by line: what it says, or BadHttp saying what is wrong."""
    start, nl, rest = text.partition("\n")
    start = start.removesuffix("\r")
    if not start.isascii():
        raise BadHttp("start line is not ASCII")
    if request:
        parts = start.split(" ")
        if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
            raise BadHttp(f"not a request line: {start[:80]!r}")
        if parts[2] not in _VERSIONS:
            raise BadHttp(f"not HTTP/1.x: {parts[2][:20]!r}")
        line = (parts[0], parts[1], parts[2])
    else:
        version, _, after = start.partition(" ")
        status, _, reason = after.partition(" ")
        if version not in _VERSIONS or len(status) != 3 or not status.isdigit():
            raise BadHttp(f"not a status line: {start[:80]!r}")
        line = (version, status, reason)
    if not rest:
        return Head(line)
    for field in rest.split("\n"):
        if not re.fullmatch(_FIELD_LINE, field):
            # A line that is not `name: value`, obsolete line folding included (RFC 9112).
            raise BadHttp(f"malformed header field: {field[:80]!r}")
    return Head(line, nl + rest)


class Framer:
    """Follows one direction of an HTTP/1.1 connection: requests, or responses.

    `feed(data)` yields `Event`s with offsets into `data`. For responses, set `method` to the
    request's method when a response's START event arrives (before iterating on): a response
    to HEAD has no body, and 2xx to CONNECT opens a tunnel. After BAD, `reason` says why.
    """

    __slots__ = (
        "_buf",
        "_started",
        "_usual",
        "method",
        "raw",
        "reason",
        "remaining",
        "request",
        "state",
    )

    def __init__(self, request: bool) -> None:
        self.request = request
        self.state = _HEAD
        self.remaining = 0
        self.method: str | None = None
        self.raw = False
        self.reason = ""
        self._buf = bytearray()
        self._started = False
        self._usual = _USUAL_REQUEST if request else _USUAL_RESPONSE

    @property
    def in_head(self) -> bool:
        """Between messages or inside a head (no byte of a body pending)."""
        return self.state == _HEAD

    @property
    def until_eof(self) -> bool:
        """The body in progress ends when the connection does (a response without length)."""
        return self.state == _UNTIL_EOF

    def go_raw(self) -> None:
        """Stop framing for good (the caller stands aside)."""
        self.state = _RAW
        self.raw = True
        self._buf.clear()

    def feed(self, data: bytes) -> Iterator[Event]:
        pos, end = 0, len(data)
        try:
            while pos < end:
                state = self.state
                if state == _HEAD:
                    if not self._started:
                        self._started = True
                        if not self.request:  # only a response's first byte matters
                            yield START, pos, None
                    usual = None if self._buf else self._usual.match(data, pos)
                    if usual is not None:  # most heads: whole in one chunk, and plain
                        first, second, third, fields = usual.groups()
                        start = (first.decode(), second.decode(), (third or b"").decode())
                        head = Head(start, fields.decode("latin-1"))
                        pos = usual.end()
                    else:
                        found = self._head(data, pos)
                        if found is None:
                            return
                        pos, head = found
                    yield HEAD, pos, head
                    self._begin_body(head)
                    if self.state == _HEAD or self.raw:
                        yield END, pos, None  # no body (after a 101, a tunnel follows)
                    continue
                if state in (_LENGTH, _CHUNK_DATA):
                    if self.remaining > end - pos:
                        self.remaining -= end - pos
                        return
                    pos += self.remaining
                    self.remaining = 0
                    if state == _CHUNK_DATA:
                        self.state = _CHUNK_CRLF
                        continue
                    self.state, self._started = _HEAD, False  # the next message
                    yield END, pos, None
                    continue
                if state in (_RAW, _UNTIL_EOF):
                    return
                line_end = data.find(b"\n", pos)
                if line_end < 0:
                    self._buf += data[pos:]
                    limit = MAX_HEAD if state == _TRAILER else MAX_LINE
                    if len(self._buf) > limit:
                        raise BadHttp(f"chunked framing line longer than {limit} bytes")
                    return
                line = bytes(self._buf + data[pos:line_end]).rstrip(b"\r")
                self._buf.clear()
                pos = line_end + 1
                if self._chunk_line(line):
                    yield END, pos, None
        except BadHttp as exc:
            self.go_raw()
            self.reason = str(exc)
            yield BAD, pos, None

    def _head(self, data: bytes, pos: int) -> tuple[int, Head] | None:
        """Read a head from `pos`: where it ended and what it says, or None (more to come)."""
        buf = self._buf
        if not buf:
            # Blank lines before a start line are tolerated (RFC 9112 §2.2).
            while pos < len(data) and data[pos] in b"\r\n":
                pos += 1
            if pos == len(data):
                return None
            end = data.find(b"\r\n\r\n", pos)
            if end >= 0 and data.count(b"\n", pos, end) == data.count(b"\r\n", pos, end):
                # Every LF before it is in a CRLF: no other blank line can come first.
                return end + 4, parse_head(data[pos:end], self.request)
            match = _HEAD_END.search(data, pos)
            if match is None:
                buf += data[pos:]
                self._check_partial()
                return None
            head_bytes = data[pos : match.start()]
            after = match.end()
        else:
            before = len(buf)
            buf += data[pos:]
            match = _HEAD_END.search(buf, max(0, before - 3))
            if match is None:
                self._check_partial()
                return None
            head_bytes = bytes(buf[: match.start()])
            after = pos + match.end() - before
            buf.clear()
        return after, parse_head(head_bytes, self.request)

    def _check_partial(self) -> None:
        """Refuse a head in the making as soon as it cannot be HTTP: a TLS hello or an SSH
        banner must not wait here for a blank line that never comes."""
        buf = self._buf
        if len(buf) > MAX_HEAD:
            raise BadHttp(f"head longer than {MAX_HEAD} bytes")
        line_end = buf.find(b"\n")
        if line_end >= 0:
            parse_head(bytes(buf[:line_end]), self.request)  # the start line is complete
            return
        if self.request:
            method = bytes(buf).split(b" ", 1)[0]
            if len(method) > 32 or not _TOKEN.match(method.decode("latin-1")):
                raise BadHttp(f"not a request line: {bytes(buf[:40])!r}")
        elif not (b"HTTP/1." + b" " * 8).startswith(bytes(buf[:7])):
            raise BadHttp(f"not a status line: {bytes(buf[:40])!r}")

    def whole_request(self, data: bytes) -> Head | None:
        """The head of `data` if it is exactly one request with no body, from a boundary, with
        a usual head: framed as `feed` would frame it, in one step (see `whole_response`).

        None for anything else, and nothing changed: `feed` it then.
        """
        if self.state != _HEAD or self._buf or self._started:
            return None
        usual = self._usual.match(data)
        if usual is None or usual.end() != len(data):
            return None
        first, second, third, fields = usual.groups()
        head = Head((first.decode(), second.decode(), third.decode()), fields.decode("latin-1"))
        framing = head._lower
        if "\ntransfer-encoding:" in framing or "\ncontent-length:" in framing:
            return None
        return head

    def whole_response(self, data: bytes) -> bool:
        """Whether `data` is exactly one final response with all of its Content-Length body,
        from a boundary, with a usual head: framed as `feed` would frame it, in one step.

        The usual chunks of a keep-alive stream; the framer stays at the boundary. False for
        anything else, and nothing changed: `feed` it then. Set `method` first: an answer to
        HEAD or CONNECT is never whole, nor a 1xx, a 101, a 204 or a 304.
        """
        if self.state != _HEAD or self._buf or self._started:
            return False
        usual = self._usual.match(data)
        if usual is None:
            return False
        status, framing = usual[2], usual[4].lower()
        if status < b"200" or status in (b"204", b"304") or self.method in ("HEAD", "CONNECT"):
            return False
        if b"\ntransfer-encoding:" in framing:
            return False
        # One Content-Length, of exactly what follows (any other spelling: `feed` decides).
        return _CONTENT_LENGTH_BYTES.findall(framing) == [b"%d" % (len(data) - usual.end())]

    def _begin_body(self, head: Head) -> None:
        """Choose how the body of `head` is framed (RFC 9112 §6.3)."""
        self._started = False
        if not self.request:
            status = head.line[1]  # three ASCII digits: compared as strings, in numeric order
            if status == "101" or (self.method == "CONNECT" and "200" <= status < "300"):
                self.go_raw()  # a tunnel: what follows is another protocol
                return
            if self.method == "HEAD" or status < "200" or status in ("204", "304"):
                return  # no body (a 1xx is followed by the final response)
        fields = head._lower  # mostly without any framing field: looked for at once
        coding = head.tokens("transfer-encoding") if "\ntransfer-encoding:" in fields else []
        if coding:
            if coding[-1] == "chunked":
                self.state = _CHUNK_LINE
            elif self.request:
                raise BadHttp(f"request body coding {coding!r} has no length")
            else:
                self.state = _UNTIL_EOF
            return
        if "\ncontent-length:" in fields:
            values = _CONTENT_LENGTH.findall(fields)  # as Head.values finds them, in one go
            length = values[0].strip()
            if len(values) > 1 and len(lengths := {value.strip() for value in values}) > 1:
                raise BadHttp(f"conflicting Content-Length values {sorted(lengths)}")
            if not (length.isascii() and length.isdigit()):
                raise BadHttp(f"Content-Length {length[:20]!r} is not a number")
            if length.strip("0"):
                self.state, self.remaining = _LENGTH, int(length)
        elif not self.request:
            self.state = _UNTIL_EOF

    def _chunk_line(self, line: bytes) -> bool:
        """One line of chunked framing: a size, the CRLF after data, or a trailer line.

        True if it ends the message.
        """
        if self.state == _CHUNK_CRLF:
            if line:
                raise BadHttp("chunk data not followed by CRLF")
            self.state = _CHUNK_LINE
        elif self.state == _CHUNK_LINE:
            size = line.split(b";", 1)[0].strip()
            if not size or len(size) > 16 or size.strip(b"0123456789abcdefABCDEF"):
                raise BadHttp(f"bad chunk size line {line[:40]!r}")
            self.remaining = int(size, 16)
            self.state = _CHUNK_DATA if self.remaining else _TRAILER
        elif not line:  # the blank line after the trailer section ends the message
            self._next_message()
            return True
        return False

    def _next_message(self) -> None:
        self.state = _HEAD
        self._started = False
