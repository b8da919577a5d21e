"""GET /openapi.json: an OpenAPI 3.1 description of every endpoint, schema and error."""

from __future__ import annotations

from typing import Any

import chaos
from chaos.proxy.toxics import TOXICS

__all__ = ["OPENAPI", "build_openapi"]

_REF = "#/components/schemas/"
_TEXT = "text/plain; charset=utf-8"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    """An API error: JSON text sent as text/plain (Go's http.Error), with a trailing newline."""
    return {"description": description, "content": {_TEXT: {"schema": _ref("Error")}}}


def _empty(description: str) -> dict[str, Any]:
    return {"description": description}


_NOT_FOUND_PROXY = _error("`proxy not found`")
_FORBIDDEN = {
    "description": "A browser user agent (`Mozilla/...`): plain text `User agent not allowed`",
    "content": {_TEXT: {"schema": {"type": "string"}}},
}
_TIMEOUT = _empty("The handler did not finish within 25 s (empty body)")
_BAD_BODY = _error("`bad request body: <Go encoding/json error>` (e.g. `bad request body: EOF`)")
_BIND = _error("Listening failed, Go wording (`listen tcp 127.0.0.1:8080: bind: ...`)")


def _param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": "^[^/]+$"},
    }


def _op(
    op_id: str, summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    responses = {**responses, "403": _FORBIDDEN, "503": _TIMEOUT}
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return op


def _toxic_attributes() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name, cls in sorted(TOXICS.items()):
        schemas[f"{cls.go_struct or name}Attributes"] = {
            "type": "object",
            "description": f"Attributes of the `{name}` toxic (every key always present)",
            "required": [json_name for json_name, _, _ in cls.fields()],
            "additionalProperties": False,
            "properties": {
                json_name: {"type": "integer", "minimum": 0, "format": go_type}
                for json_name, _, go_type in cls.fields()
            },
        }
    return schemas


def _schemas() -> dict[str, Any]:
    attributes = _toxic_attributes()
    toxic_types = sorted(TOXICS)
    stream = {
        "type": "string",
        "description": "`upstream` (client to server) or `downstream`, any case; echoed as sent",
    }
    toxic_props = {
        # anyOf: toxics with the same attribute keys (timeout, reset_peer) are alike.
        "attributes": {"anyOf": [_ref(name) for name in attributes]} if attributes else {},
        "name": {"type": "string"},
        "type": {"type": "string", "enum": toxic_types},
        "stream": stream,
        "toxicity": {"type": "number", "description": "Chance the toxic applies (float32)"},
    }
    return {
        **attributes,
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
            "required": list(toxic_props),
            "properties": toxic_props,
        },
        "ToxicCreate": {
            "type": "object",
            "description": "Defaults: stream downstream, name `<type>_<stream>`, toxicity 1, "
            "attributes all 0",
            "properties": {
                **toxic_props,
                "attributes": {"type": ["object", "null"]},
                "type": {"type": "string"},
            },
        },
        "ToxicUpdate": {
            "type": "object",
            "description": "Attributes merged over the current ones; toxicity kept unless sent",
            "properties": {
                "attributes": {"type": ["object", "null"]},
                "toxicity": {"type": "number"},
            },
        },
        "Proxy": {
            "type": "object",
            "required": ["name", "listen", "upstream", "enabled", "toxics"],
            "properties": {
                "name": {"type": "string"},
                "listen": {"type": "string", "description": "Bound address when enabled"},
                "upstream": {"type": "string"},
                "enabled": {"type": "boolean"},
                "toxics": {"type": "array", "items": _ref("Toxic")},
            },
        },
        "ProxyCreate": {
            "type": "object",
            "description": "name and upstream required; enabled defaults to true; an empty "
            "listen binds every interface on an ephemeral port; toxics are our extension",
            "properties": {
                "name": {"type": "string", "pattern": "^[^/]*$"},
                "listen": {"type": "string"},
                "upstream": {"type": "string"},
                "enabled": {"type": "boolean"},
                "toxics": {"type": ["array", "null"], "items": _ref("ToxicCreate")},
            },
        },
        "ProxyUpdate": {
            "type": "object",
            "description": "Omitted fields keep their values; a changed address restarts the "
            "proxy (dropping its connections); name is ignored",
            "properties": {
                "listen": {"type": "string"},
                "upstream": {"type": "string"},
                "enabled": {"type": "boolean"},
            },
        },
        "ProxyMap": {"type": "object", "additionalProperties": _ref("Proxy")},
        "PopulateResult": {
            "type": "object",
            "required": ["proxies"],
            "description": "On failure also `error` and `status`; `proxies` lists those "
            "processed before it (null if none)",
            "properties": {
                "error": {"type": "string"},
                "status": {"type": "integer"},
                "proxies": {"type": ["array", "null"], "items": _ref("Proxy")},
            },
        },
        "Connection": {
            "type": "object",
            "required": ["id", "client", "upstream", "opened_at", "toxics", "bytes"],
            "properties": {
                "id": {"type": "string"},
                "client": {"type": ["string", "null"]},
                "upstream": {"type": ["string", "null"]},
                "opened_at": {"type": "number", "description": "Unix time, seconds"},
                "toxics": {
                    "type": "object",
                    "description": "Per stream, the toxics running on this connection and "
                    "whether their toxicity roll made them active",
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
        },
    }


def _paths() -> dict[str, Any]:
    proxy = _param("proxy", "Proxy name (URL-escaped)")
    toxic = _param("toxic", "Toxic name (URL-escaped)")
    return {
        "/version": {
            "get": _op(
                "version",
                'Server version: `{"version": "<v>"}` and a newline',
                {"200": _json(_ref("Version"), "The version")},
            )
        },
        "/proxies": {
            "get": _op("listProxies", "Every proxy, by name", {"200": _json(_ref("ProxyMap"), "")}),
            "post": _op(
                "createProxy",
                "Create a proxy (and start it unless disabled)",
                {
                    "201": _json(_ref("Proxy"), "Created"),
                    "400": _error("Bad body, missing name/upstream, `/` in name, bad toxic"),
                    "409": _error("`proxy already exists` (or a toxic name used twice)"),
                    "500": _BIND,
                },
                _ref("ProxyCreate"),
            ),
        },
        "/proxies/{proxy}": {
            "parameters": [proxy],
            "get": _op(
                "getProxy",
                "One proxy",
                {"200": _json(_ref("Proxy"), ""), "404": _NOT_FOUND_PROXY},
            ),
            "patch": _op(
                "updateProxy",
                "Change listen, upstream or enabled (POST also accepted, deprecated)",
                {
                    "200": _json(_ref("Proxy"), "Updated"),
                    "400": _BAD_BODY,
                    "404": _NOT_FOUND_PROXY,
                    "500": _BIND,
                },
                _ref("ProxyUpdate"),
            ),
            "post": {
                **_op(
                    "updateProxyPost",
                    "Same as PATCH (deprecated)",
                    {
                        "200": _json(_ref("Proxy"), "Updated"),
                        "400": _BAD_BODY,
                        "404": _NOT_FOUND_PROXY,
                        "500": _BIND,
                    },
                    _ref("ProxyUpdate"),
                ),
                "deprecated": True,
            },
            "delete": _op(
                "deleteProxy",
                "Stop and remove a proxy (its connections are closed)",
                {"204": _empty("Deleted"), "404": _NOT_FOUND_PROXY},
            ),
        },
        "/proxies/{proxy}/toxics": {
            "parameters": [proxy],
            "get": _op(
                "listToxics",
                "Toxics of a proxy: upstream ones, then downstream, in insertion order",
                {
                    "200": _json({"type": "array", "items": _ref("Toxic")}, ""),
                    "404": _NOT_FOUND_PROXY,
                },
            ),
            "post": _op(
                "createToxic",
                "Add a toxic; it applies at once to live connections",
                {
                    "200": _json(_ref("Toxic"), "Created (200, as Toxiproxy answers)"),
                    "400": _error("Bad body, bad stream, `invalid toxic type`, bad attribute"),
                    "404": _NOT_FOUND_PROXY,
                    "409": _error("`toxic already exists`"),
                },
                _ref("ToxicCreate"),
            ),
        },
        "/proxies/{proxy}/toxics/{toxic}": {
            "parameters": [proxy, toxic],
            "get": _op(
                "getToxic",
                "One toxic",
                {"200": _json(_ref("Toxic"), ""), "404": _error("proxy or toxic not found")},
            ),
            "patch": _op(
                "updateToxic",
                "Merge attributes, replace toxicity if sent",
                {
                    "200": _json(_ref("Toxic"), "Updated"),
                    "400": _BAD_BODY,
                    "404": _error("proxy or toxic not found"),
                },
                _ref("ToxicUpdate"),
            ),
            "post": {
                **_op(
                    "updateToxicPost",
                    "Same as PATCH",
                    {
                        "200": _json(_ref("Toxic"), "Updated"),
                        "400": _BAD_BODY,
                        "404": _error("proxy or toxic not found"),
                    },
                    _ref("ToxicUpdate"),
                ),
            },
            "delete": _op(
                "deleteToxic",
                "Remove a toxic (queued data flows on; a timeout toxic closes its connections)",
                {"204": _empty("Removed"), "404": _error("proxy or toxic not found")},
            ),
        },
        "/proxies/{proxy}/connections": {
            "parameters": [proxy],
            "get": _op(
                "listConnections",
                "Live connections through a proxy (our extension)",
                {
                    "200": _json({"type": "array", "items": _ref("Connection")}, ""),
                    "404": _NOT_FOUND_PROXY,
                },
            ),
            "delete": _op(
                "cutConnections",
                "Close every live connection (FIN); the proxy keeps listening (our extension)",
                {"204": _empty("Closed"), "404": _NOT_FOUND_PROXY},
            ),
        },
        "/populate": {
            "post": _op(
                "populate",
                "Create or replace many proxies; unchanged existing ones are kept as they are",
                {
                    "201": _json(_ref("PopulateResult"), "All processed"),
                    "400": _json(_ref("PopulateResult"), "Bad body or entry (nothing created)"),
                    "409": _json(_ref("PopulateResult"), "Toxic name used twice in an entry"),
                    "500": _json(_ref("PopulateResult"), "A proxy could not start"),
                },
                {"type": ["array", "null"], "items": _ref("ProxyCreate")},
            )
        },
        "/reset": {
            "post": _op(
                "reset",
                "Enable every proxy and remove every toxic (then report the first failure)",
                {"204": _empty("Reset"), "500": _BIND},
            )
        },
        "/metrics": {
            "get": _op(
                "metrics",
                "Prometheus metrics; only served with proxy or runtime metrics enabled",
                {
                    "200": {
                        "description": "Prometheus text exposition",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "404": {"description": "Metrics not enabled: `404 page not found`"},
                },
            )
        },
        "/openapi.json": {
            "get": _op(
                "openapi",
                "This document",
                {"200": _json({"type": "object"}, "OpenAPI 3.1")},
            )
        },
    }


def build_openapi() -> dict[str, Any]:
    """The document, built from the toxic registry as it stands."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pytest-chaos proxy server (Toxiproxy-compatible API)",
            "version": chaos.__version__,
            "description": "Toxiproxy 2.12's HTTP API plus a few extensions. Errors are JSON "
            "objects sent as text/plain with a trailing newline; unknown paths give "
            "`404 page not found`, wrong methods an empty 405.",
        },
        "servers": [{"url": "http://127.0.0.1:8474"}],
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }


OPENAPI = build_openapi()
