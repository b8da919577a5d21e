"""Typed client of the Toxiproxy HTTP API: our pytest-chaos server or a real Toxiproxy 2.x.

    with Toxiproxy() as api:                      # $TOXIPROXY_URL or http://127.0.0.1:8474
        proxy = api.create_proxy("db", upstream="127.0.0.1:5432")
        proxy.add_toxic("latency", attributes={"latency": 200})
        proxy.add_http_error(503, percentage=30, path="/push")   # our server only

`AsyncToxiproxy` has the same methods, awaited. `add_http_error` and `add_http_latency` add the
HTTP toxics with typed arguments (`HttpMatch`: which requests); a real Toxiproxy has no such
toxics (`InvalidToxic`). `create_proxy(..., toxics=[...])` makes a proxy born with its toxics
on our server; a real Toxiproxy ignores them, so the client adds them one by one (warning
`ServerIgnoredToxicsWarning`) and deletes the proxy if one fails.

Errors: status and the server's error text map to a class; the message carries the server's
text, status, method and path:

    ToxiproxyError
     ├── TransportError            server unreachable or too slow (raised `from` the httpx error)
     ├── InvalidResponse           a 2xx body that is not what the API returns
     └── ApiError                  .status .message .method .path .body
          ├── NotFound
          │    ├── ProxyNotFound   "proxy not found"
          │    └── ToxicNotFound   "toxic not found"
          ├── Conflict
          │    ├── ProxyExists     "proxy already exists"
          │    └── ToxicExists     "toxic already exists"
          ├── BadRequest
          │    ├── InvalidToxic    "invalid toxic type"
          │    ├── InvalidStream   "stream was invalid, ..."
          │    └── MissingField    "missing required field: ..."
          ├── Forbidden            browser User-Agent refused
          ├── ServerError          5xx
          │    └── AddressInUse    "listen tcp ...: bind: address already in use"
          └── UnsupportedByServer  an extension route a real Toxiproxy 404s
"""

from chaos.client._async import AsyncToxiproxy
from chaos.client._client import DEFAULT_URL, USER_AGENT, Toxiproxy
from chaos.client._errors import (
    AddressInUse,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidResponse,
    InvalidStream,
    InvalidToxic,
    MissingField,
    NotFound,
    ProxyExists,
    ProxyNotFound,
    ServerError,
    ToxicExists,
    ToxicNotFound,
    ToxiproxyError,
    TransportError,
    UnsupportedByServer,
)
from chaos.client._models import Connection, ConnectionToxic, Proxy, Toxic
from chaos.client._ops import HttpMatch, ServerIgnoredToxicsWarning

__all__ = [
    "DEFAULT_URL",
    "USER_AGENT",
    "AddressInUse",
    "ApiError",
    "AsyncToxiproxy",
    "BadRequest",
    "Conflict",
    "Connection",
    "ConnectionToxic",
    "Forbidden",
    "HttpMatch",
    "InvalidResponse",
    "InvalidStream",
    "InvalidToxic",
    "MissingField",
    "NotFound",
    "Proxy",
    "ProxyExists",
    "ProxyNotFound",
    "ServerError",
    "ServerIgnoredToxicsWarning",
    "Toxic",
    "ToxicExists",
    "ToxicNotFound",
    "Toxiproxy",
    "ToxiproxyError",
    "TransportError",
    "UnsupportedByServer",
]
