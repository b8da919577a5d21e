"""The component schemas of GET /openapi.json: bodies as the server really accepts them.

A request schema says what the server accepts: a body it calls valid gets 2xx, 404 or 409,
never 400 (except where JSON Schema cannot say it, listed in the schemathesis test's known
exceptions). Request objects allow unknown fields (the server ignores them, as Go does) but
not a known field's name in another case, which Go takes for that field (see `closed`). An
optional field may be `null`: Go's decoder then leaves it as it was (absent, or unchanged).
"""

from __future__ import annotations

from typing import Any

from chaos.proxy.toxics import TOXICS, Toxic

__all__ = ["schemas"]

_REF = "#/components/schemas/"
FLOAT32_MAX = 3.4028234663852886e38


def ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _any_case(word: str) -> str:
    """A regex for what lowercases to `word` (ECMA regexes, as JSON Schema's, have no (?i)).

    The Kelvin sign lowercases to `k`, so the server takes it for one.
    """
    kelvin = {"k": "\u212a"}
    return "".join(
        f"[{c.upper()}{c.lower()}{kelvin.get(c, '')}]" if c.isalpha() else c for c in word
    )


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A request object as Go decodes it: unknown fields are ignored, but a field's name in
    another case is that field (so only the exact spelling of a known one is allowed)."""
    known = list(schema["properties"])
    variants = "|".join(_any_case(name) for name in known)
    names = {"anyOf": [{"enum": known}, {"not": {"pattern": f"^({variants})$"}}]}
    return {**schema, "propertyNames": names} if known else schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null (which Go's decoder takes as "not sent")."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _input(prop: dict[str, Any]) -> dict[str, Any]:
    """An attribute as sent: null too, and in a map null values too (Go stores them as "")."""
    values = prop.get("additionalProperties")
    if isinstance(values, dict):
        prop = {**prop, "additionalProperties": nullable(values)}
    return nullable(prop)


def _name(cls: type[Toxic]) -> str:
    return cls.go_struct or cls.type


def _attributes(cls: type[Toxic]) -> dict[str, Any]:
    """Attributes as the server shows them: every key always present."""
    props = cls.schema()
    return {
        "type": "object",
        "description": f"Attributes of the `{cls.type}` toxic (every key always present)",
        "required": list(props),
        "properties": props,
    }


def _attributes_input(cls: type[Toxic]) -> dict[str, Any]:
    """Attributes as a client sends them: any subset; the others keep their default."""
    out: dict[str, Any] = {
        "type": "object",
        "description": f"Attributes of a `{cls.type}` toxic; keys not sent keep their default "
        "(on update: their current value; a map sent replaces the old one)",
        "properties": {name: _input(prop) for name, prop in cls.schema().items()},
    }
    return closed(out)


def _toxic_create(cls: type[Toxic]) -> dict[str, Any]:
    attributes = ref(f"{_name(cls)}AttributesInput")
    if cls.required:
        given = {"not": {"type": "null"}}  # null would leave the (invalid) default
        must = {"required": list(cls.required), "properties": dict.fromkeys(cls.required, given)}
        attributes = {"allOf": [attributes, must]}
    else:
        attributes = {"oneOf": [attributes, {"type": "null"}]}
    out: dict[str, Any] = {
        "type": "object",
        "required": ["type", *(["attributes"] if cls.required else [])],
        "properties": {
            "type": {"const": cls.type},
            "name": {
                "type": ["string", "null"],
                "pattern": r"^(?!\.{1,2}$)",  # `.` and `..` could not be addressed
                "description": "Default `<type>_<stream>`",
            },
            "stream": {
                "type": ["string", "null"],
                "pattern": f"^({_any_case('upstream')}|{_any_case('downstream')})$",
                "description": "`upstream` (client to server) or `downstream` (the default), any "
                "case, echoed as sent. HTTP toxics act on both directions whatever it says.",
            },
            "toxicity": {
                "type": ["number", "null"],
                "minimum": -FLOAT32_MAX,
                "maximum": FLOAT32_MAX,
                "description": "Chance the toxic applies (float32; default 1): per connection "
                "and direction, for HTTP toxics per request",
            },
            "attributes": attributes,
        },
    }
    return closed(out)


def schemas() -> dict[str, Any]:
    """Every component schema, built from the toxic registry as it stands."""
    toxics = [TOXICS[name] for name in sorted(TOXICS)]
    out: dict[str, Any] = {}
    for cls in toxics:
        out[f"{_name(cls)}Attributes"] = _attributes(cls)
        out[f"{_name(cls)}AttributesInput"] = _attributes_input(cls)
        out[f"{_name(cls)}Create"] = _toxic_create(cls)
    proxy_name = {
        "type": "string",
        "minLength": 1,
        # A name with `/` could never be addressed (400); `.` and `..` neither (the path is
        # cleaned to another URL, as gorilla/mux does), which Toxiproxy still accepts.
        "pattern": r"^(?!\.{1,2}$)[^/]+$",
    }
    out.update(
        {
            "Error": {
                "type": "object",
                "required": ["error", "status"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
            },
            "Version": {
                "type": "object",
                "required": ["version"],
                "properties": {"version": {"type": "string"}},
            },
            "Toxic": {
                "type": "object",
                "required": ["attributes", "name", "type", "stream", "toxicity"],
                "properties": {
                    # anyOf: toxics with the same attribute keys (timeout, reset_peer) are alike.
                    "attributes": {"anyOf": [ref(f"{_name(c)}Attributes") for c in toxics]},
                    "name": {"type": "string"},
                    "type": {"type": "string", "enum": [c.type for c in toxics]},
                    "stream": {"type": "string"},
                    "toxicity": {"type": "number"},
                },
            },
            "ToxicCreate": {
                "description": "A new toxic; stream defaults to downstream, name to "
                "`<type>_<stream>`, toxicity to 1, attributes to their defaults",
                "oneOf": [ref(f"{_name(c)}Create") for c in toxics],
                "discriminator": {
                    "propertyName": "type",
                    "mapping": {c.type: f"{_REF}{_name(c)}Create" for c in toxics},
                },
            },
            "ToxicUpdate": closed(
                {
                    "type": "object",
                    "description": "Attributes merged over the current ones (keys of other types "
                    "are ignored); toxicity kept unless sent; name, type and stream are ignored",
                    "properties": {
                        "attributes": {
                            "anyOf": [
                                *(ref(f"{_name(c)}AttributesInput") for c in toxics),
                                {"type": "null"},
                            ]
                        },
                        "toxicity": {
                            "type": ["number", "null"],
                            "minimum": -FLOAT32_MAX,
                            "maximum": FLOAT32_MAX,
                        },
                    },
                }
            ),
            "Proxy": {
                "type": "object",
                "required": ["name", "listen", "upstream", "enabled", "toxics"],
                "properties": {
                    "name": {"type": "string"},
                    "listen": {"type": "string", "description": "Bound address when enabled"},
                    "upstream": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "toxics": {"type": "array", "items": ref("Toxic")},
                },
            },
            "ProxyCreate": closed(
                {
                    "type": "object",
                    "description": "enabled defaults to true; an empty or missing listen binds "
                    "every interface on an ephemeral port; `toxics` is our extension (a proxy born "
                    "with them; names must differ, 409 otherwise)",
                    "required": ["name", "upstream"],
                    "properties": {
                        "name": proxy_name,
                        "listen": {
                            "type": ["string", "null"],
                            "description": "host:port (500 if it fails)",
                        },
                        "upstream": {
                            "type": "string",
                            "minLength": 1,
                            "description": "host:port, dialled per client connection (not checked)",
                        },
                        "enabled": {"type": ["boolean", "null"]},
                        "toxics": {"type": ["array", "null"], "items": ref("ToxicCreate")},
                    },
                }
            ),
            "ProxyUpdate": closed(
                {
                    "type": "object",
                    "description": "Omitted fields keep their values; a changed address restarts "
                    "the proxy (dropping its connections); name is ignored",
                    "properties": {
                        "name": {"type": ["string", "null"]},
                        "listen": {
                            "type": ["string", "null"],
                            "description": "host:port (500 if it fails)",
                        },
                        "upstream": {"type": ["string", "null"]},
                        "enabled": {"type": ["boolean", "null"]},
                    },
                }
            ),
            "ProxyMap": {"type": "object", "additionalProperties": ref("Proxy")},
            "PopulateResult": {
                "type": "object",
                "required": ["proxies"],
                "description": "On failure also `error` and `status`; `proxies` lists those "
                "processed before it (null if none)",
                "properties": {
                    "error": {"type": "string"},
                    "status": {"type": "integer"},
                    "proxies": {"type": ["array", "null"], "items": ref("Proxy")},
                },
            },
            "Connection": _connection(),
        }
    )
    return out


def _connection() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "client", "upstream", "opened_at", "toxics", "bytes"],
        "properties": {
            "id": {"type": "string"},
            "client": {"type": ["string", "null"]},
            "upstream": {"type": ["string", "null"]},
            "opened_at": {"type": "number", "description": "Unix time, seconds"},
            "toxics": {
                "type": "object",
                "description": "Per stream, the toxics running on this connection and whether "
                "their toxicity roll made them active (HTTP toxics: on both, always active)",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "type", "active"],
                        "properties": {
                            "name": {"type": "string"},
                            "type": {"type": "string"},
                            "active": {"type": "boolean"},
                        },
                    },
                },
            },
            "bytes": {
                "type": "object",
                "description": "Bytes sent so far, per stream",
                "additionalProperties": {"type": "integer"},
            },
        },
    }
