"""http_error: answer matching requests with an error status; they never reach the server.

Requests are chosen per request (see `_http`): a `percentage` of the matching ones (times the
toxicity), and at most `count` in all, so `count` 2 is "fail twice, then succeed". The answer
has `status`, `body` and `headers`, a computed Content-Length, and a Content-Type of text/plain
when a body is given without one. The request's body is read and dropped as it streams.

Trap: a request that does not keep the connection alive (Connection: close, HTTP/1.0) and one
that waits for `100 Continue` before sending its body get an answer with `Connection: close`,
and the connection closes after it, as a server that refuses an unread body must.
"""

from __future__ import annotations

import dataclasses
import http
import re

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import attribute, register
from chaos.proxy.toxics._http import TOKEN_SCHEMA, Entry, HttpToxic
from chaos.proxy.toxics._http_wire import Head

__all__ = ["HttpErrorToxic"]

_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_FRAMING = ("content-length", "transfer-encoding", "connection")
# Any case of a framing header's name, as a JSON Schema (ECMA) regex has no (?i).
_FRAMING_SCHEMA = {
    "pattern": "^("
    + "|".join("".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in n) for n in _FRAMING)
    + ")$"
}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@register
@dataclasses.dataclass(kw_only=True)
class HttpErrorToxic(HttpToxic):
    """Answers matching requests itself with `status` (and `body`, `headers`)."""

    type = "http_error"
    go_struct = "HttpErrorToxic"

    status: int = attribute(
        default=503, doc="status of the answer", schema={"minimum": 200, "maximum": 599}
    )
    body: str = attribute(go_type="string", default="", doc="body of the answer (UTF-8)")
    headers: dict[str, str] = attribute(  # noqa: RUF009 (attribute() is a field())
        go_type="map[string]string",
        default={},
        doc="extra header fields of the answer (not Content-Length, Transfer-Encoding, "
        "Connection: the proxy sets those)",
        schema={
            "propertyNames": {**TOKEN_SCHEMA, "not": _FRAMING_SCHEMA},
            "additionalProperties": {"type": "string", "pattern": "^[^\\r\\n\\u0000]*$"},
        },
    )

    def validate(self) -> None:
        super().validate()
        if not 200 <= self.status <= 599:
            self.refuse("status", self.status, "a final status within 200..599, e.g. 503")
        for name, value in self.headers.items():
            if not _NAME.match(name):
                self.refuse("headers", name, "header names are tokens, e.g. Retry-After")
            if name.lower() in _FRAMING:
                self.refuse("headers", name, "the proxy sets the framing headers itself")
            if any(c in value for c in "\r\n\0"):
                self.refuse("headers", value, "a header value has no CR, LF or NUL")

    def __post_init__(self) -> None:
        super().__post_init__()
        self._payload = self.body.encode()
        fields = [f"HTTP/1.1 {self.status} {_reason(self.status)}"]
        fields += [f"{name}: {value}" for name, value in self.headers.items()]
        if self._payload and not any(n.lower() == "content-type" for n in self.headers):
            fields.append("Content-Type: text/plain; charset=utf-8")
        fields.append(f"Content-Length: {len(self._payload)}")
        self._head = "\r\n".join(fields).encode("latin-1", "replace")

    def answer(self, head: Head, close: bool) -> bytes:
        """The bytes of the answer to `head`."""
        ending = b"\r\nConnection: close\r\n\r\n" if close else b"\r\n\r\n"
        body = b"" if head.line[0].upper() == "HEAD" else self._payload
        return self._head + ending + body

    def act(self, head: Head, entry: Entry, stub: Stub) -> None:
        unread_body = "100-continue" in head.tokens("expect") and (
            bool(head.values("transfer-encoding"))
            or any(v.strip().lstrip("0") for v in head.values("content-length"))
        )
        entry.close = unread_body or not head.keep_alive()
        entry.local = self.answer(head, entry.close)
