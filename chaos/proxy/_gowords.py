"""How Go's encoding/json names a JSON value in its errors ("string", "number 1.5", ...)."""

from __future__ import annotations

from typing import Any

__all__ = ["describe", "kind", "number_text"]


def kind(value: Any) -> str:
    """Go's name for the JSON type of a decoded value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "number"


def number_text(value: Any) -> str:
    """A number as it was written in the JSON (a parsed float may carry its `.text`)."""
    return getattr(value, "text", None) or str(value)


def describe(value: Any) -> str:
    """What `cannot unmarshal <this> into ...` says: the kind, and a number's literal."""
    name = kind(value)
    return f"number {number_text(value)}" if name == "number" else name
