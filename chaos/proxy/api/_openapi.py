"""GET /openapi.json: an OpenAPI 3.1 description of every endpoint, schema and error.

Links lead from the operations that create a proxy or a toxic to those that need its name,
so a stateful tool (schemathesis) can reach every operation. Toxiproxy answers that OpenAPI
cannot state are said in descriptions: errors are JSON sent as text/plain; a wrong method gets
a bodiless 405 without Allow; /metrics answers every method alike (404 when it is not enabled).
"""

from __future__ import annotations

from typing import Any

import chaos
from chaos.proxy.api._openapi_schemas import ref, schemas

__all__ = ["OPENAPI", "build_openapi"]

_TEXT = "text/plain; charset=utf-8"


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _error(description: str) -> dict[str, Any]:
    """An API error: JSON text sent as text/plain (Go's http.Error), with a trailing newline."""
    return {"description": description, "content": {_TEXT: {"schema": ref("Error")}}}


def _empty(description: str) -> dict[str, Any]:
    return {"description": description}


_NOT_FOUND_PROXY = _error("`proxy not found`")
_NOT_FOUND_TOXIC = _error("`proxy not found` or `toxic not found`")
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
        # An empty body is `bad request body: EOF`: every body here is required.
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _links(targets: list[str], **parameters: str) -> dict[str, Any]:
    """Links to `targets` (operation ids), passing the same parameters to each."""
    return {
        target[0].upper() + target[1:]: {"operationId": target, "parameters": dict(parameters)}
        for target in targets
    }


def _or_null(name: str) -> dict[str, Any]:
    """An update body: `null` changes nothing, as Go decodes it."""
    return {"oneOf": [ref(name), {"type": "null"}]}


_PROXY_OPS = [
    "getProxy",
    "updateProxy",
    "updateProxyPost",
    "listToxics",
    "createToxic",
    "listConnections",
    "cutConnections",
    "deleteProxy",
]
_TOXIC_OPS = ["getToxic", "updateToxic", "updateToxicPost", "deleteToxic"]


def _proxy_paths() -> dict[str, Any]:
    proxy = _param("proxy", "Proxy name (URL-escaped)")
    updated = {
        "200": _json(ref("Proxy"), "Updated"),
        "400": _BAD_BODY,
        "404": _NOT_FOUND_PROXY,
        "500": _BIND,
    }
    created = _json(ref("Proxy"), "Created", links=_links(_PROXY_OPS, proxy="$response.body#/name"))
    return {
        "/proxies": {
            "get": _op("listProxies", "Every proxy, by name", {"200": _json(ref("ProxyMap"), "")}),
            "post": _op(
                "createProxy",
                "Create a proxy (and start it unless disabled)",
                {
                    "201": created,
                    "400": _error("Bad body, missing name/upstream, `/` in name, bad toxic"),
                    "409": _error("`proxy already exists` (or a toxic name used twice)"),
                    "500": _BIND,
                },
                ref("ProxyCreate"),
            ),
        },
        "/proxies/{proxy}": {
            "parameters": [proxy],
            "get": _op(
                "getProxy", "One proxy", {"200": _json(ref("Proxy"), ""), "404": _NOT_FOUND_PROXY}
            ),
            "patch": _op(
                "updateProxy",
                "Change listen, upstream or enabled (POST also accepted, deprecated)",
                updated,
                _or_null("ProxyUpdate"),
            ),
            "post": {
                **_op(
                    "updateProxyPost",
                    "Same as PATCH (deprecated)",
                    updated,
                    _or_null("ProxyUpdate"),
                ),
                "deprecated": True,
            },
            "delete": _op(
                "deleteProxy",
                "Stop and remove a proxy (its connections are closed)",
                {"204": _empty("Deleted"), "404": _NOT_FOUND_PROXY},
            ),
        },
        "/proxies/{proxy}/connections": {
            "parameters": [proxy],
            "get": _op(
                "listConnections",
                "Live connections through a proxy (our extension)",
                {
                    "200": _json({"type": "array", "items": ref("Connection")}, ""),
                    "404": _NOT_FOUND_PROXY,
                },
            ),
            "delete": _op(
                "cutConnections",
                "Close every live connection (FIN); the proxy keeps listening (our extension)",
                {"204": _empty("Closed"), "404": _NOT_FOUND_PROXY},
            ),
        },
    }


def _toxic_paths() -> dict[str, Any]:
    proxy = _param("proxy", "Proxy name (URL-escaped)")
    toxic = _param("toxic", "Toxic name (URL-escaped)")
    updated = {"200": _json(ref("Toxic"), "Updated"), "400": _BAD_BODY, "404": _NOT_FOUND_TOXIC}
    created = _json(
        ref("Toxic"),
        "Created (200, as Toxiproxy answers)",
        links=_links(_TOXIC_OPS, proxy="$request.path.proxy", toxic="$response.body#/name"),
    )
    return {
        "/proxies/{proxy}/toxics": {
            "parameters": [proxy],
            "get": _op(
                "listToxics",
                "Toxics of a proxy: upstream ones, then downstream, in insertion order",
                {
                    "200": _json({"type": "array", "items": ref("Toxic")}, ""),
                    "404": _NOT_FOUND_PROXY,
                },
            ),
            "post": _op(
                "createToxic",
                "Add a toxic; it applies at once to live connections",
                {
                    "200": created,
                    "400": _error("Bad body, bad stream, `invalid toxic type`, bad attribute"),
                    "404": _NOT_FOUND_PROXY,
                    "409": _error("`toxic already exists`"),
                },
                ref("ToxicCreate"),
            ),
        },
        "/proxies/{proxy}/toxics/{toxic}": {
            "parameters": [proxy, toxic],
            "get": _op(
                "getToxic", "One toxic", {"200": _json(ref("Toxic"), ""), "404": _NOT_FOUND_TOXIC}
            ),
            "patch": _op(
                "updateToxic",
                "Merge attributes, replace toxicity if sent",
                updated,
                _or_null("ToxicUpdate"),
            ),
            "post": _op("updateToxicPost", "Same as PATCH", updated, _or_null("ToxicUpdate")),
            "delete": _op(
                "deleteToxic",
                "Remove a toxic (queued data flows on; a timeout toxic closes its connections; "
                "an HTTP toxic those where it still owes an answer)",
                {"204": _empty("Removed"), "404": _NOT_FOUND_TOXIC},
            ),
        },
    }


def _server_paths() -> dict[str, Any]:
    return {
        "/version": {
            "get": _op(
                "version",
                'Server version: `{"version": "<v>"}` and a newline',
                {"200": _json(ref("Version"), "The version")},
            )
        },
        "/populate": {
            "post": _op(
                "populate",
                "Create or replace many proxies; unchanged existing ones are kept as they are",
                {
                    "201": _json(ref("PopulateResult"), "All processed"),
                    "400": _json(ref("PopulateResult"), "Bad body or entry (nothing created)"),
                    "409": _json(ref("PopulateResult"), "Toxic name used twice in an entry"),
                    "500": _json(ref("PopulateResult"), "A proxy could not start"),
                },
                {"type": ["array", "null"], "items": ref("ProxyCreate")},
            )
        },
        "/reset": {
            "post": _op(
                "reset",
                "Enable every proxy and remove every toxic (then report the first failure); "
                "any body is ignored",
                {"204": _empty("Reset"), "500": _BIND},
            )
        },
        "/metrics": {
            "get": {
                **_op(
                    "metrics",
                    "Prometheus metrics; only served with proxy or runtime metrics enabled",
                    {
                        "200": {
                            "description": "Prometheus text exposition",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "404": {
                            "description": "Metrics not enabled: `404 page not found`",
                            "content": {_TEXT: {"schema": {"type": "string"}}},
                        },
                    },
                ),
                "description": "Toxiproxy routes /metrics without a method: every method gets "
                "this answer (200 when enabled, 404 when not), never a 405.",
            }
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
            "`404 page not found`; a wrong method gets an empty 405 (no Allow header, as "
            "Toxiproxy's router answers); `//x` and paths with `.` or `..` segments are "
            "redirected (301) to their cleaned form.",
        },
        "servers": [{"url": "http://127.0.0.1:8474"}],
        "paths": {**_server_paths(), **_proxy_paths(), **_toxic_paths()},
        "components": {"schemas": schemas()},
    }


OPENAPI = build_openapi()
