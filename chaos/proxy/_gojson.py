"""JSON as Go's encoding/json reads and writes it, down to the wording of every error.

Decoding is two steps, like Go: `parse` checks the syntax of the first value in the body
(trailing bytes are ignored, as `json.Decoder.Decode` does) and builds Python values, keeping
the literal text of numbers; `unmarshal` then fits them to a Go type, recording the FIRST type
mismatch and carrying on (Go's `saveError`), matching field names case-insensitively and
ignoring unknown fields. `null` counts as absent everywhere our types need it.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
import re
import struct
from typing import Any

__all__ = [
    "ABSENT",
    "Float32",
    "GoFloat",
    "GoJsonError",
    "Map",
    "Opaque",
    "Scalar",
    "Slice",
    "Struct",
    "decode",
    "describe",
    "dumps",
    "parse",
    "unmarshal",
]

MAX_DEPTH = 10_000
_WS = b" \t\r\n"
_SIMPLE_ESCAPES = {
    ord('"'): '"',
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}
_HEX = b"0123456789abcdefABCDEF"
_SURROGATES = re.compile("[\ud800-\udfff]")
_INT_RANGES = {"int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1)}


class GoJsonError(Exception):
    """Decoding failed; the message is exactly what Go's error says (e.g. `unexpected EOF`)."""


class GoFloat(float):
    """A JSON number that is not an integer literal; `text` is the literal as sent."""

    text: str

    def __new__(cls, text: str) -> GoFloat:
        self = super().__new__(cls, float(text))
        self.text = text
        return self


class Float32(float):
    """A float32 value: encoded with the shortest digits that round-trip through float32."""

    def __new__(cls, value: float) -> Float32:
        return super().__new__(cls, struct.unpack("f", struct.pack("f", value))[0])


def json_kind(value: Any) -> str:
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
    name = json_kind(value)
    return f"number {number_text(value)}" if name == "number" else name


# -- syntax ----------------------------------------------------------------------------------


def _quote_char(c: int) -> str:
    """Go's quoteChar: how a scanner error names the offending byte."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    ch = chr(c)
    special = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in special:
        return f"'{special[ch]}'"
    if ch == "\v":
        return "'\\v'"
    if ch == "\\":
        return "'\\\\'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if not ch.isprintable():
        return f"'\\u{c:04x}'"
    return f"'{ch}'"


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, context: str) -> GoJsonError:
        if self.pos >= len(self.data):
            return GoJsonError("unexpected EOF")
        return GoJsonError(f"invalid character {_quote_char(self.data[self.pos])} {context}")

    def skip_ws(self) -> None:
        data, pos = self.data, self.pos
        while pos < len(data) and data[pos] in _WS:
            pos += 1
        self.pos = pos

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def parse(self) -> Any:
        self.skip_ws()
        if self.pos >= len(self.data):
            raise GoJsonError("EOF")
        # An explicit stack instead of recursion: Go allows 10000 levels, Python's stack less.
        stack: list[tuple[Any, str | None]] = []
        while True:
            value = self.scalar_or_open(stack)
            if value is _OPEN:
                continue
            while True:
                if not stack:
                    return value
                container, key = stack[-1]
                if isinstance(container, list):
                    container.append(value)
                    self.skip_ws()
                    c = self.peek()
                    if c == ord(","):
                        self.pos += 1
                        break
                    if c == ord("]"):
                        self.pos += 1
                        stack.pop()
                        value = container
                        continue
                    raise self.fail("after array element")
                assert key is not None
                container[key] = value
                self.skip_ws()
                c = self.peek()
                if c == ord(","):
                    self.pos += 1
                    self.skip_ws()
                    stack[-1] = (container, self.key())
                    break
                if c == ord("}"):
                    self.pos += 1
                    stack.pop()
                    value = container
                    continue
                raise self.fail("after object key:value pair")

    def key(self) -> str:
        if self.peek() != ord('"'):
            raise self.fail("looking for beginning of object key string")
        key = self.string()
        self.skip_ws()
        if self.peek() != ord(":"):
            raise self.fail("after object key")
        self.pos += 1
        return key

    def scalar_or_open(self, stack: list[tuple[Any, str | None]]) -> Any:
        self.skip_ws()
        c = self.peek()
        if c is None:
            raise GoJsonError("unexpected EOF")
        if c in (ord("{"), ord("[")):
            if len(stack) >= MAX_DEPTH:
                raise self.fail("exceeded max depth")
            self.pos += 1
            self.skip_ws()
            if c == ord("["):
                if self.peek() == ord("]"):
                    self.pos += 1
                    return []
                stack.append(([], None))
                return _OPEN
            if self.peek() == ord("}"):
                self.pos += 1
                return {}
            stack.append(({}, self.key()))
            return _OPEN
        if c == ord('"'):
            return self.string()
        if c == ord("-") or ord("0") <= c <= ord("9"):
            return self.number()
        for word, value in ((b"true", True), (b"false", False), (b"null", None)):
            if c == word[0]:
                return self.literal(word, value)
        raise self.fail("looking for beginning of value")

    def literal(self, word: bytes, value: Any) -> Any:
        self.pos += 1
        for expected in word[1:]:
            if self.peek() != expected:
                name = word.decode()
                raise self.fail(f"in literal {name} (expecting {_quote_char(expected)})")
            self.pos += 1
        return value

    def number(self) -> Any:
        data, start = self.data, self.pos

        def digit() -> bool:
            c = self.peek()
            return c is not None and ord("0") <= c <= ord("9")

        def digits() -> None:
            while digit():
                self.pos += 1

        if data[self.pos] == ord("-"):
            self.pos += 1
            if not digit():
                raise self.fail("in numeric literal")
        if data[self.pos] == ord("0"):
            self.pos += 1
        else:
            digits()
        is_int = True
        if self.peek() == ord("."):
            is_int = False
            self.pos += 1
            if not digit():
                raise self.fail("after decimal point in numeric literal")
            digits()
        if self.peek() in (ord("e"), ord("E")):
            is_int = False
            self.pos += 1
            if self.peek() in (ord("+"), ord("-")):
                self.pos += 1
            if not digit():
                raise self.fail("in exponent of numeric literal")
            digits()
        text = data[start : self.pos].decode()
        if is_int:
            try:
                return int(text)
            except ValueError:  # beyond Python's int-from-text digit limit: fits nothing anyway
                pass
        return GoFloat(text)

    def string(self) -> str:
        data = self.data
        self.pos += 1
        parts: list[str] = []
        run_start = self.pos
        while True:
            if self.pos >= len(data):
                raise GoJsonError("unexpected EOF")
            c = data[self.pos]
            if c == ord('"'):
                parts.append(data[run_start : self.pos].decode("utf-8", "replace"))
                self.pos += 1
                return _SURROGATES.sub("\ufffd", "".join(parts))
            if c < 0x20:
                raise self.fail("in string literal")
            if c != ord("\\"):
                self.pos += 1
                continue
            parts.append(data[run_start : self.pos].decode("utf-8", "replace"))
            self.pos += 1
            if self.pos >= len(data):
                raise GoJsonError("unexpected EOF")
            esc = data[self.pos]
            if esc in _SIMPLE_ESCAPES:
                parts.append(_SIMPLE_ESCAPES[esc])
                self.pos += 1
            elif esc == ord("u"):
                self.pos += 1
                parts.append(chr(self.hex4()))
                # A surrogate pair written as two escapes is one character.
                if 0xD800 <= ord(parts[-1]) < 0xDC00 and data[self.pos : self.pos + 2] == b"\\u":
                    save = self.pos
                    self.pos += 2
                    low = self.hex4()
                    if 0xDC00 <= low < 0xE000:
                        high = ord(parts.pop())
                        parts.append(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
                    else:
                        self.pos = save
            else:
                raise self.fail("in string escape code")
            run_start = self.pos

    def hex4(self) -> int:
        for i in range(4):
            c = self.data[self.pos + i] if self.pos + i < len(self.data) else None
            if c is None:
                self.pos += i
                raise GoJsonError("unexpected EOF")
            if c not in _HEX:
                self.pos += i
                raise self.fail("in \\u hexadecimal character escape")
        value = int(self.data[self.pos : self.pos + 4], 16)
        self.pos += 4
        return value


_OPEN = object()


def parse(data: bytes) -> Any:
    """The first JSON value in `data`; numbers keep their text (floats as `GoFloat`)."""
    return _Parser(data).parse()


# -- types -----------------------------------------------------------------------------------


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""What `unmarshal` gives for `null` (and what a struct leaves out for fields not sent)."""


@dataclasses.dataclass(frozen=True)
class Scalar:
    """A Go scalar: `string`, `bool`, `int`, `int64`, `float32` or `float64`."""

    go: str


@dataclasses.dataclass(frozen=True)
class Map:
    """A Go `map[string]<elem>`: a JSON object of any keys."""

    go: str
    elem: Any


@dataclasses.dataclass(frozen=True)
class Struct:
    """A Go struct: `go` is its type as Go prints it, `name` as error messages name it."""

    go: str
    name: str
    fields: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Slice:
    go: str
    elem: Any


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A JSON object kept as a dict for later decoding (a toxic's `attributes`)."""

    go: str


_FLOAT32_MAX = 3.4028234663852886e38


class _Unmarshaller:
    def __init__(self) -> None:
        self.error: str | None = None

    def save(self, kind: str, go: str, struct_name: str | None, path: tuple[str, ...]) -> Any:
        if self.error is None:
            if struct_name is None and not path:
                where = "Go value"
            else:
                where = f"Go struct field {struct_name or ''}.{'.'.join(path)}"
            self.error = f"json: cannot unmarshal {kind} into {where} of type {go}"
        return ABSENT

    def value(self, value: Any, typ: Any, struct_name: str | None, path: tuple[str, ...]) -> Any:
        if value is None:
            return ABSENT
        kind = json_kind(value)
        if isinstance(typ, Scalar):
            if typ.go == "string":
                return value if kind == "string" else self.save(kind, typ.go, struct_name, path)
            if typ.go == "bool":
                return value if kind == "bool" else self.save(kind, typ.go, struct_name, path)
            if kind != "number":
                return self.save(kind, typ.go, struct_name, path)
            if typ.go in _INT_RANGES:
                lo, hi = _INT_RANGES[typ.go]
                if isinstance(value, int) and lo <= value <= hi:
                    return value
                return self.save(describe(value), typ.go, struct_name, path)
            if typ.go == "float64":
                try:
                    as_float = float(value)
                except OverflowError:  # an integer literal beyond float64
                    as_float = math.inf
                if math.isfinite(as_float):
                    return value  # as written: an int stays one (messages then say 101)
                return self.save(describe(value), typ.go, struct_name, path)
            try:
                as_float = float(value)
            except OverflowError:
                as_float = math.inf
            if not math.isfinite(as_float) or abs(as_float) > _FLOAT32_MAX:
                return self.save(f"number {number_text(value)}", typ.go, struct_name, path)
            try:
                return Float32(as_float)
            except OverflowError:
                return self.save(f"number {number_text(value)}", typ.go, struct_name, path)
        if isinstance(typ, Map):
            if kind != "object":
                return self.save(kind, typ.go, struct_name, path)
            entries: dict[str, Any] = {}
            for key, item in value.items():
                decoded = self.value(item, typ.elem, struct_name, path)
                if decoded is ABSENT and typ.elem == Scalar("string"):
                    decoded = ""  # Go stores a null element as its zero value
                if decoded is not ABSENT:
                    entries[key] = decoded
            return entries
        if isinstance(typ, Opaque):
            return value if kind == "object" else self.save(kind, typ.go, struct_name, path)
        if isinstance(typ, Slice):
            if kind != "array":
                return self.save(kind, typ.go, struct_name, path)
            items = [self.value(item, typ.elem, struct_name, path) for item in value]
            return [{} if item is ABSENT else item for item in items]
        if isinstance(typ, Struct):
            if kind != "object":
                return self.save(kind, typ.go, struct_name, path)
            out: dict[str, Any] = {}
            lower = {name.lower(): name for name in typ.fields}
            for key, item in value.items():
                field = key if key in typ.fields else lower.get(key.lower())
                if field is None:
                    continue  # Go ignores unknown fields
                decoded = self.value(item, typ.fields[field], typ.name, (*path, field))
                if decoded is not ABSENT:  # null leaves a field as it was, as in Go
                    out[field] = decoded
            return out
        raise TypeError(f"unknown Go type description {typ!r}")


def unmarshal(value: Any, typ: Any) -> Any:
    """Fit a parsed value to a Go type; raises GoJsonError with the first mismatch."""
    unmarshaller = _Unmarshaller()
    out = unmarshaller.value(value, typ, None, ())
    if unmarshaller.error is not None:
        raise GoJsonError(unmarshaller.error)
    return out


def decode(data: bytes, typ: Any) -> Any:
    """parse + unmarshal: what `json.NewDecoder(body).Decode(&v)` would report."""
    return unmarshal(parse(data), typ)


# -- encoding --------------------------------------------------------------------------------


def _shortest(value: float, bits: int) -> str:
    """The fewest significant digits that read back as `value` at this float width."""
    if bits == 64:
        return repr(value)
    for precision in range(9):
        candidate = f"{value:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(candidate)))[0] == value:
            return candidate
    return repr(value)


def _format_float(value: float, bits: int) -> str:
    """Go's float encoding: ES6-like (%f unless tiny or huge), shortest round-trip digits."""
    if not math.isfinite(value):
        raise ValueError(f"JSON cannot encode {value!r}; Go refuses NaN and Inf too")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    number = decimal.Decimal(_shortest(value, bits)).normalize()
    magnitude = abs(value)
    if 1e-6 <= magnitude < 1e21:
        return format(number, "f")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    exp10 = exponent + len(text) - 1
    return f"{'-' if sign else ''}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10)}"


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    return f"\\u{ord(ch):04x}"


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append('"' + _NEEDS_ESCAPE.sub(_escape, value) + '"')
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Float32):
        out.append(_format_float(float(value), 32))
    elif isinstance(value, float):
        out.append(_format_float(float(value), 64))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            _encode(str(key), out)
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any) -> bytes:
    """Compact JSON exactly as Go's json.Marshal writes it (HTML-escaped, float32 aware)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode()
