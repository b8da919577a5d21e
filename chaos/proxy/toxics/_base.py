"""The toxic base class, its attribute decoding, and the registry of toxic types by API name."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeVar

from chaos.proxy._gowords import describe
from chaos.proxy.errors import ApiError, BadRequest
from chaos.proxy.stub import Stub

__all__ = ["TOXICS", "InvalidAttribute", "Toxic", "attribute", "register"]

InvalidAttribute = ApiError("invalid attribute", 400)

_GO_RANGES = {"int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1)}

TOXICS: dict[str, type[Toxic]] = {}

T = TypeVar("T", bound="type[Toxic]")


def register(cls: T) -> T:
    """Class decorator: make a toxic type available under its API name."""
    if not cls.type or cls.type in TOXICS:
        raise ValueError(f"toxic type {cls.type!r} of {cls.__name__} is empty or already taken")
    TOXICS[cls.type] = cls
    return cls


def attribute(*, go_type: str = "int64", json: str | None = None, doc: str = "") -> Any:
    """Declare an integer attribute (default 0), with its Go type for exact decode errors."""
    return dataclasses.field(default=0, metadata={"go_type": go_type, "json": json, "doc": doc})


@dataclasses.dataclass(kw_only=True)
class Toxic:
    """A fault applied to one direction of every connection of a proxy.

    Subclasses are dataclasses of integer attributes, set `type` (the API name) and
    `go_struct` (Toxiproxy's struct name, for identical error messages) and implement `pipe`.
    """

    type: ClassVar[str] = ""
    go_struct: ClassVar[str] = ""
    closes_on_remove: ClassVar[bool] = False
    """Removing the toxic closes the connections it ran on (Toxiproxy's timeout does this)."""

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError

    def new_state(self) -> Any:
        """Per-connection state that survives interrupts (None if the toxic keeps none)."""
        return None

    def validate(self) -> None:
        """Refuse values that would crash or wedge the proxy; every attribute must be >= 0."""
        for name, value in self.attributes().items():
            if value < 0:
                raise InvalidAttribute(
                    f"invalid attribute: {self.type} {name} must be >= 0, got {value}"
                )

    @classmethod
    def fields(cls) -> list[tuple[str, str, str]]:
        """(json name, python name, Go type) of each attribute."""
        return [
            (f.metadata.get("json") or f.name, f.name, f.metadata.get("go_type", "int64"))
            for f in dataclasses.fields(cls)
        ]

    def attributes(self) -> dict[str, int]:
        """Attributes as the API shows them: every key of the type, always present."""
        return {json_name: getattr(self, py) for json_name, py, _ in self.fields()}

    @classmethod
    def from_attributes(cls, raw: Mapping[str, Any] | None, base: Toxic | None = None) -> Self:
        """Decode JSON attributes over `base` (partial merge) with Go's error wording; validate.

        Unknown keys are ignored and `null` leaves a value unchanged, as Go's encoding/json does.
        """
        values = base.attributes() if base is not None else {}
        by_json_lower = {j.lower(): (j, py, go) for j, py, go in cls.fields()}
        kwargs = {py: values.get(j, 0) for j, py, _ in cls.fields()}
        for key, value in (raw or {}).items():
            match = by_json_lower.get(key.lower())
            if match is None or value is None:
                continue
            json_name, py, go_type = match
            lo, hi = _GO_RANGES[go_type]
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise BadRequest(
                    f"bad request body: json: cannot unmarshal {describe(value)} into Go struct "
                    f"field {cls.go_struct}.attributes.{json_name} of type {go_type}"
                )
            kwargs[py] = value
        toxic = cls(**kwargs)
        toxic.validate()
        return toxic
