"""GET /openapi.json: a valid OpenAPI 3.1 document naming every route the app serves."""

from __future__ import annotations

import httpx
import pytest

from chaos.proxy.api import create_app
from chaos.proxy.api._routes import ANY
from chaos.proxy.server import ProxyServer
from chaos.proxy.toxics import TOXICS

from .conftest import assert_json


async def test_document_is_valid_openapi(client: httpx.AsyncClient) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    doc = assert_json(await client.get("/openapi.json"))
    validator.validate(doc)
    assert doc["openapi"] == "3.1.0"


async def test_every_route_and_method_documented(client: httpx.AsyncClient) -> None:
    doc = assert_json(await client.get("/openapi.json"))
    app = create_app(ProxyServer(), proxy_metrics=True)
    for route in app.routes:
        item = doc["paths"][route.path]
        for method in route.handlers:
            if method != ANY:
                assert method.lower() in item, (route.path, method)
            else:
                assert "get" in item
    assert set(doc["paths"]) == {route.path for route in app.routes}


async def test_every_toxic_type_and_error_described(client: httpx.AsyncClient) -> None:
    doc = assert_json(await client.get("/openapi.json"))
    schemas = doc["components"]["schemas"]
    assert sorted(schemas["Toxic"]["properties"]["type"]["enum"]) == sorted(TOXICS)
    for cls in TOXICS.values():
        props = schemas[f"{cls.go_struct}Attributes"]["properties"]
        assert sorted(props) == sorted(j for j, _, _ in cls.fields())
    create = doc["paths"]["/proxies"]["post"]["responses"]
    assert {"201", "400", "403", "409", "500", "503"} <= set(create)
    assert schemas["Error"]["required"] == ["error", "status"]


def test_component_schemas_are_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    from chaos.proxy.api._openapi import build_openapi

    for schema in build_openapi()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


async def test_real_responses_match_their_schemas(client: httpx.AsyncClient, echo: str) -> None:
    import asyncio
    import json

    from jsonschema import Draft202012Validator

    doc = assert_json(await client.get("/openapi.json"))

    def validate(name: str, value: object) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        Draft202012Validator(schema).validate(value)

    body = {"name": "s", "listen": "127.0.0.1:0", "upstream": echo, "toxics": [{"type": "noop"}]}
    proxy = assert_json(await client.post("/proxies", json=body), 201)
    validate("Proxy", proxy)
    latency = {"type": "latency", "attributes": {"latency": 1}, "stream": "upstream"}
    validate("Toxic", assert_json(await client.post("/proxies/s/toxics", json=latency)))
    validate("ProxyMap", assert_json(await client.get("/proxies")))
    validate("Version", (await client.get("/version")).json())
    validate("Error", json.loads((await client.get("/proxies/x")).text))
    populate = await client.post("/populate", json=[{"name": "q", "upstream": echo}])
    validate("PopulateResult", populate.json())
    validate("PopulateResult", (await client.post("/populate", content=b"{}")).json())
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"x")
    await asyncio.wait_for(reader.readexactly(1), 5)
    (conn,) = assert_json(await client.get("/proxies/s/connections"))
    validate("Connection", conn)
    writer.close()


async def test_required_fields_and_bodies_are_marked(client: httpx.AsyncClient) -> None:
    doc = assert_json(await client.get("/openapi.json"))
    schemas = doc["components"]["schemas"]
    assert schemas["ProxyCreate"]["required"] == ["name", "upstream"]
    r = await client.post("/proxies", json={})
    assert r.status_code == 400 and "missing required field: name" in r.text
    for path, method in [
        ("/populate", "post"),
        ("/proxies", "post"),
        ("/proxies/{proxy}", "patch"),
    ]:
        assert doc["paths"][path][method]["requestBody"]["required"] is True
    assert (await client.post("/populate")).status_code == 400  # no body: `bad request body: EOF`
    slicer = schemas["SlicerToxicCreate"]
    assert slicer["required"] == ["type", "attributes"]


async def test_links_lead_to_every_operation_that_needs_a_name(client: httpx.AsyncClient) -> None:
    doc = assert_json(await client.get("/openapi.json"))
    by_id = {
        op["operationId"]: (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    links = {
        **doc["paths"]["/proxies"]["post"]["responses"]["201"]["links"],
        **doc["paths"]["/proxies/{proxy}/toxics"]["post"]["responses"]["200"]["links"],
    }
    targets = {by_id[link["operationId"]] for link in links.values()}
    needing_a_name = {(p, m) for p, m in by_id.values() if "{" in p}
    assert targets == needing_a_name
    for link in links.values():
        path, _ = by_id[link["operationId"]]
        assert set(link["parameters"]) == {part[1:-1] for part in path.split("/") if "{" in part}
