"""Request bodies: the Go types Toxiproxy decodes them into, and what our server gets from them.

The API and `-config` files share these rules, so they live below both. The Go type names
matter: they appear verbatim in decode errors that clients match on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from chaos.proxy._gojson import (
    Float32,
    GoJsonError,
    Opaque,
    Scalar,
    Slice,
    Struct,
    decode,
)
from chaos.proxy.errors import BadRequest

__all__ = [
    "ProxyRequest",
    "ToxicRequest",
    "decode_populate",
    "decode_proxy",
    "decode_proxy_update",
    "decode_toxic",
    "decode_toxic_update",
]


@dataclasses.dataclass(frozen=True)
class ToxicRequest:
    """A toxic as a client asked for it; None means the field was not sent."""

    type: str | None = None
    stream: str | None = None
    name: str | None = None
    toxicity: float | None = None
    attributes: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class ProxyRequest:
    """A proxy as a client asked for it (create or populate); None means not sent."""

    name: str = ""
    listen: str = ""
    upstream: str = ""
    enabled: bool | None = None
    toxics: Sequence[ToxicRequest] = ()


_STRING = Scalar("string")
_BOOL = Scalar("bool")
_FLOAT32 = Scalar("float32")

_TOXIC_FIELDS = {
    "attributes": Opaque("toxics.NoopToxic"),
    "name": _STRING,
    "type": _STRING,
    "stream": _STRING,
    "toxicity": _FLOAT32,
}
TOXIC = Struct("toxics.ToxicWrapper", "ToxicWrapper", _TOXIC_FIELDS)

# `toxics` is our extension: Toxiproxy ignores the field, so nothing it accepts changes meaning.
_PROXY_FIELDS = {
    "name": _STRING,
    "listen": _STRING,
    "upstream": _STRING,
    "enabled": _BOOL,
    "toxics": Slice("[]toxics.ToxicWrapper", TOXIC),
}
PROXY = Struct("toxiproxy.Proxy", "Proxy", _PROXY_FIELDS)

_POPULATE_ENTRY = 'struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'
# Fields of the embedded Proxy are promoted into an anonymous struct: errors name it "".
POPULATE = Slice(f"[]{_POPULATE_ENTRY}", Struct(_POPULATE_ENTRY, "", _PROXY_FIELDS))


def _toxic_update_type(go_struct: str) -> Struct:
    go = (
        'struct { Attributes interface {} "json:\\"attributes\\""; '
        'Toxicity float32 "json:\\"toxicity\\"" }'
    )
    fields = {"attributes": Opaque(f"toxics.{go_struct}"), "toxicity": _FLOAT32}
    return Struct(go, "", fields)


def _decode(body: bytes, typ: Any) -> Any:
    try:
        return decode(body, typ)
    except GoJsonError as exc:
        raise BadRequest(f"bad request body: {exc}") from None


def _toxic(fields: dict[str, Any]) -> ToxicRequest:
    toxicity = fields.get("toxicity")
    return ToxicRequest(
        type=fields.get("type"),
        stream=fields.get("stream"),
        name=fields.get("name"),
        toxicity=toxicity if isinstance(toxicity, Float32) else None,
        attributes=fields.get("attributes"),
    )


def _proxy(fields: dict[str, Any]) -> ProxyRequest:
    return ProxyRequest(
        name=fields.get("name", ""),
        listen=fields.get("listen", ""),
        upstream=fields.get("upstream", ""),
        enabled=fields.get("enabled"),
        toxics=tuple(_toxic(t) for t in fields.get("toxics", ())),
    )


def decode_proxy(body: bytes) -> ProxyRequest:
    """POST /proxies: a proxy, enabled unless it says otherwise, with optional toxics."""
    fields = _decode(body, PROXY)
    return _proxy(fields if isinstance(fields, dict) else {})


def decode_proxy_update(body: bytes) -> dict[str, Any]:
    """POST/PATCH /proxies/{proxy}: listen, upstream, enabled (absent ones keep their value)."""
    fields = _decode(body, PROXY)
    fields = fields if isinstance(fields, dict) else {}
    return {key: fields.get(key) for key in ("listen", "upstream", "enabled")}


def decode_populate(body: bytes) -> list[ProxyRequest]:
    """POST /populate: a JSON array of proxies (`null` is an empty one)."""
    entries = _decode(body, POPULATE)
    return [_proxy(entry) for entry in entries] if isinstance(entries, list) else []


def decode_toxic(body: bytes) -> ToxicRequest:
    """POST /proxies/{proxy}/toxics: the envelope; attributes are decoded once the type is known."""
    fields = _decode(body, TOXIC)
    return _toxic(fields if isinstance(fields, dict) else {})


def decode_toxic_update(body: bytes, go_struct: str) -> tuple[dict[str, Any] | None, float | None]:
    """POST/PATCH /proxies/{proxy}/toxics/{toxic}: (attributes to merge, new toxicity)."""
    fields = _decode(body, _toxic_update_type(go_struct))
    fields = fields if isinstance(fields, dict) else {}
    return fields.get("attributes"), fields.get("toxicity")
