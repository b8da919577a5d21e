"""Schemathesis hooks for the OpenAPI run (tests/proxy/api/test_schemathesis.py).

Two kinds, each with its reason:
- the sandbox: every generated `listen` becomes 127.0.0.1:0 and every `upstream` 127.0.0.1:9,
  so the run binds loopback only and never resolves a name (no traffic off this machine);
- known exceptions: inputs rewritten where JSON Schema cannot say what the server refuses
  (integers written with a fraction, a slicer's two sizes), and failures dropped that are
  Toxiproxy-compatible answers (`KNOWN_EXCEPTIONS`), each with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import schemathesis


def _sandbox(body: Any, creates: bool) -> None:
    """Loopback only: a proxy created without a listen would bind every interface."""
    if isinstance(body, list):
        for item in body:
            _sandbox(item, creates)
    if not isinstance(body, dict):
        return
    if isinstance(body.get("listen"), str) or (creates and body.get("listen") is None):
        body["listen"] = "127.0.0.1:0"
    if isinstance(body.get("upstream"), str) and body["upstream"]:
        body["upstream"] = "127.0.0.1:9"
    for toxic in body.get("toxics") or ():
        _slicer_within_bounds(toxic)
    _slicer_within_bounds(body)


def _integers_as_written_by_go(value: Any) -> Any:
    """Known exception: JSON Schema calls 1807.0 an integer; Go's encoding/json refuses it for
    an int64 field (`cannot unmarshal number 1807.0`), and so do we, as clients match on that
    wording. The run sends the same number without a fraction."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_integers_as_written_by_go(v) for v in value]
    if isinstance(value, dict):
        return {k: _integers_as_written_by_go(v) for k, v in value.items()}
    return value


def _slicer_within_bounds(toxic: Any) -> None:
    """Known exception: a slicer's size_variation must not exceed its average_size (400), a
    rule between two fields, or between a field sent and one stored, that JSON Schema cannot
    state. A valid size_variation sent is lowered to one that fits."""
    if not isinstance(toxic, dict) or not isinstance(toxic.get("attributes"), dict):
        return
    attributes = toxic["attributes"]
    variation = attributes.get("size_variation")
    if not isinstance(variation, int) or not 0 <= variation < 2**63:
        return  # a type or range error the check expects to be refused: left alone
    average = attributes.get("average_size")
    if toxic.get("type") == "slicer" and isinstance(average, int):
        attributes["size_variation"] = min(variation, max(average, 0))
    elif "type" not in toxic:  # an update: the stored average_size is not known here
        attributes["size_variation"] = 0


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.body is not None and not isinstance(case.body, bytes | str):
        case.body = _integers_as_written_by_go(case.body)
        _sandbox(case.body, case.operation.path in ("/proxies", "/populate"))
        if case.operation.path == "/proxies/{proxy}/toxics/{toxic}":
            _slicer_within_bounds(case.body)


def _case_variants(body: Any) -> bool:
    """Whether a JSON body spells a known field in another case (`NAME` for `name`)."""
    if isinstance(body, list):
        return any(_case_variants(item) for item in body)
    if not isinstance(body, dict):
        return False
    return any(
        (key not in _FIELDS and key.lower() in _LOWER) or _case_variants(value)
        for key, value in body.items()
    )


def _request_fields() -> set[str]:
    from chaos.proxy.api._openapi_schemas import schemas

    fields: set[str] = set()
    for schema in schemas().values():
        fields.update(schema.get("properties", {}))
    return fields


_FIELDS = _request_fields()
_LOWER = {name.lower() for name in _FIELDS}

KNOWN_EXCEPTIONS: list[tuple[str, Callable[[Any, Any], bool]]] = [
    (
        "a wrong method gets a 405 without Allow: Toxiproxy's router (gorilla/mux) answers so",
        lambda failure, case: getattr(failure, "failure_reason", "") == "missing_allow_header",
    ),
    (
        "/metrics answers every method alike: Toxiproxy routes it without a method",
        lambda failure, case: (
            type(failure).__name__ == "UnsupportedMethodResponse"
            and case.operation.path == "/metrics"
        ),
    ),
    (
        "a field name in another case is that field: Go's encoding/json matches names "
        "case-insensitively, which JSON Schema cannot state (the document refuses the spelling)",
        lambda failure, case: (
            type(failure).__name__ == "AcceptedNegativeData" and _case_variants(case.body)
        ),
    ),
    (
        "DELETE /proxies/{proxy}/connections cuts the live connections; the list stays (empty): "
        "it deletes no resource",
        lambda failure, case: (
            type(failure).__name__ == "UseAfterFree"
            and "/connections" in str(getattr(failure, "free", ""))
        ),
    ),
]
"""Failures that are Toxiproxy-compatible answers, each with its reason."""


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Drop the failures that are known exceptions (each noted in $CHAOS_ST_EXCEPTIONS)."""
    for reason, matches in KNOWN_EXCEPTIONS:
        if matches(failure, case):
            log = os.environ.get("CHAOS_ST_EXCEPTIONS")
            if log:
                with open(log, "a", encoding="utf-8") as out:
                    out.write(f"{reason}\t{case.operation.label}\n")
            return False
    return True
