"""The toxic base class, its attribute decoding, and the registry of toxic types by API name."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeVar

from chaos.proxy._gojson import GoJsonError, Map, Scalar, Struct, unmarshal
from chaos.proxy.errors import ApiError, BadRequest
from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub

__all__ = ["TOXICS", "InvalidAttribute", "Toxic", "attribute", "register"]

InvalidAttribute = ApiError("invalid attribute", 400)

TOXICS: dict[str, type[Toxic]] = {}

T = TypeVar("T", bound="type[Toxic]")

_NUMERIC = {"int64", "int", "float64"}
_INT_MAX = 2**63 - 1
_SCHEMAS: dict[str, dict[str, Any]] = {
    "int64": {"type": "integer", "format": "int64", "minimum": 0, "maximum": _INT_MAX},
    "int": {"type": "integer", "format": "int64", "minimum": 0, "maximum": _INT_MAX},
    "float64": {"type": "number", "format": "double", "minimum": 0},
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "map[string]string": {"type": "object", "additionalProperties": {"type": "string"}},
}


def register(cls: T) -> T:
    """Class decorator: make a toxic type available under its API name."""
    if not cls.type or cls.type in TOXICS:
        raise ValueError(f"toxic type {cls.type!r} of {cls.__name__} is empty or already taken")
    TOXICS[cls.type] = cls
    return cls


def attribute(
    *,
    go_type: str = "int64",
    json: str | None = None,
    doc: str = "",
    default: Any = 0,
    schema: Mapping[str, Any] | None = None,
) -> Any:
    """Declare an attribute with its Go type (for exact decode errors) and its default.

    `schema` refines the JSON schema the OpenAPI document shows (e.g. a maximum).
    """
    if go_type not in _SCHEMAS:
        raise ValueError(f"go_type {go_type!r} is not one of {sorted(_SCHEMAS)}")
    metadata = {"go_type": go_type, "json": json, "doc": doc, "schema": dict(schema or {})}
    if isinstance(default, dict | list):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _go_type(go_type: str) -> Any:
    return Map(go_type, Scalar("string")) if go_type.startswith("map[") else Scalar(go_type)


@dataclasses.dataclass(kw_only=True)
class Toxic:
    """A fault applied to one direction of every connection of a proxy.

    Subclasses are dataclasses of attributes (see `attribute`), set `type` (the API name) and
    `go_struct` (Toxiproxy's struct name, for identical error messages) and implement `pipe`.
    """

    type: ClassVar[str] = ""
    go_struct: ClassVar[str] = ""
    closes_on_remove: ClassVar[bool] = False
    """Removing the toxic closes the connections it ran on (Toxiproxy's timeout does this)."""
    spans_connection: ClassVar[bool] = False
    """Runs on both links of each connection, whatever its stream (the HTTP toxics)."""
    required: ClassVar[tuple[str, ...]] = ()
    """Attributes a new toxic must be given (their default is not valid)."""

    def on_link(self, stream: str, toxicity: float, key: int) -> Toxic:
        """What a link of `stream` runs for this toxic (`key` is unique to the toxic)."""
        return self

    def on_remove(self, shared: dict[Any, Any], key: int) -> bool:
        """Called for each live connection when the toxic goes; True closes the connection."""
        return self.closes_on_remove

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError

    def inline(self, stub: Stub, chunk: Chunk) -> bool:
        """Handle `chunk` synchronously, at the head of its chain, if nothing has to wait.

        True: handled (what it sends is sent). False: the link queues it for `pipe`. The
        link only calls this while the toxic's queue is empty; most toxics never can.
        """
        return False

    def new_state(self, *, midway: bool = False) -> Any:
        """Per-connection state that survives interrupts (None if the toxic keeps none).

        `midway`: the link has already carried bytes, so the toxic joins its stream midway
        (maybe inside a message).
        """
        return None

    def __post_init__(self) -> None:
        self.validate()  # no invalid toxic exists, however it was made

    def validate(self) -> None:
        """Refuse values that would crash or wedge the proxy; every number must be >= 0."""
        for json_name, py, go_type in self.fields():
            value = getattr(self, py)
            if go_type in _NUMERIC and value < 0:
                raise InvalidAttribute(
                    f"invalid attribute: {self.type} {json_name} must be >= 0, got {value}"
                )

    @classmethod
    def fields(cls) -> list[tuple[str, str, str]]:
        """(json name, python name, Go type) of each attribute."""
        return [
            (f.metadata.get("json") or f.name, f.name, f.metadata.get("go_type", "int64"))
            for f in dataclasses.fields(cls)
        ]

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """JSON schema of each attribute, by JSON name, with its default (unless required)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            go_type = f.metadata.get("go_type", "int64")
            json_name = f.metadata.get("json") or f.name
            prop = {**_SCHEMAS[go_type], **f.metadata.get("schema", {})}
            if json_name not in cls.required:  # a required attribute's default is not valid
                default = f.default_factory() if callable(f.default_factory) else f.default
                prop["default"] = default
            if f.metadata.get("doc"):
                prop["description"] = f.metadata["doc"]
            out[json_name] = prop
        return out

    def attributes(self) -> dict[str, Any]:
        """Attributes as the API shows them: every key of the type, always present."""
        return {j: copy.copy(getattr(self, py)) for j, py, _ in self.fields()}

    @classmethod
    def from_attributes(cls, raw: Mapping[str, Any] | None, base: Toxic | None = None) -> Self:
        """Decode JSON attributes over `base` (partial merge) with Go's error wording; validate.

        Unknown keys are ignored and `null` leaves a value unchanged, as Go's encoding/json does.
        """
        fields = {j: _go_type(go) for j, _, go in cls.fields()}
        envelope = Struct(
            f"toxics.{cls.go_struct}",
            cls.go_struct,
            {"attributes": Struct(f"toxics.{cls.go_struct}", cls.go_struct, fields)},
        )
        try:
            decoded = unmarshal({"attributes": dict(raw or {})}, envelope).get("attributes", {})
        except GoJsonError as exc:
            raise BadRequest(f"bad request body: {exc}") from None
        kwargs = {py: getattr(base, py) for _, py, _ in cls.fields()} if base is not None else {}
        kwargs.update({py: decoded[j] for j, py, _ in cls.fields() if j in decoded})
        toxic = cls(**kwargs)
        if base is not None:
            toxic.carry_over(base)
        return toxic

    def carry_over(self, base: Toxic) -> None:
        """After an update: keep what must outlive it (the HTTP toxics' request counts)."""
