"""The Go-compatible JSON codec: syntax errors, type errors, number text, encoding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from chaos.proxy._gojson import (
    Float32,
    GoFloat,
    GoJsonError,
    Map,
    Scalar,
    Slice,
    Struct,
    decode,
    dumps,
    parse,
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "EOF"),
        (b" \n\t", "EOF"),
        (b"{", "unexpected EOF"),
        (b'{"a":', "unexpected EOF"),
        (b'"abc', "unexpected EOF"),
        (b"tru", "unexpected EOF"),
        (b"[1", "unexpected EOF"),
        (b"{b}", "invalid character 'b' looking for beginning of object key string"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b"}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b"[1,]", "invalid character ']' looking for beginning of value"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b"'a'", "invalid character '\\'' looking for beginning of value"),
        (b"trux", "invalid character 'x' in literal true (expecting 'e')"),
        (b"nul1", "invalid character '1' in literal null (expecting 'l')"),
        (b'"\\x"', "invalid character 'x' in string escape code"),
        (b'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"),
        (b'"a\x01"', "invalid character '\\x01' in string literal"),
        (b'"a\n"', "invalid character '\\n' in string literal"),
        (b"-x", "invalid character 'x' in numeric literal"),
        (b"1.x", "invalid character 'x' after decimal point in numeric literal"),
        (b"1ex", "invalid character 'x' in exponent of numeric literal"),
        (b"\xef\xbb\xbf{}", "invalid character '\u00ef' looking for beginning of value"),
        (b"[" * 10_001, "invalid character '[' exceeded max depth"),
    ],
)
def test_syntax_errors_in_go_words(data: bytes, message: str) -> None:
    with pytest.raises(GoJsonError) as info:
        parse(data)
    assert str(info.value) == message


def test_values_numbers_and_trailing_bytes() -> None:
    assert parse(b'{"a":[1,-0,1.50,1e3,true,null,"\\u00e9\\ud83d\\ude00"]} trailing') == {
        "a": [1, 0, 1.5, 1000.0, True, None, "é😀"]
    }
    number = parse(b"1.50")
    assert isinstance(number, GoFloat) and number.text == "1.50"
    assert parse(b"01") == 0  # Decode stops after the first value, as Go's Decoder does
    assert parse(b'"\\ud800x"') == "\ufffdx"
    assert parse(b"[" * 10_000 + b"]" * 10_000) is not None


S = Struct("pkg.T", "T", {"name": Scalar("string"), "on": Scalar("bool"), "f": Scalar("float32")})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[1]", "json: cannot unmarshal array into Go value of type pkg.T"),
        (b'{"name":1}', "json: cannot unmarshal number into Go struct field T.name of type string"),
        (b'{"on":"x"}', "json: cannot unmarshal string into Go struct field T.on of type bool"),
        (b'{"f":{}}', "json: cannot unmarshal object into Go struct field T.f of type float32"),
        (
            b'{"f":1e39,"name":2}',
            "json: cannot unmarshal number 1e39 into Go struct field T.f of type float32",
        ),
    ],
)
def test_type_errors_first_one_reported(data: bytes, message: str) -> None:
    with pytest.raises(GoJsonError) as info:
        decode(data, S)
    assert str(info.value) == message


def test_enormous_numbers_are_type_errors_not_crashes() -> None:
    digits = "9" * 10_000
    with pytest.raises(GoJsonError) as info:
        decode(f'{{"f":{digits}}}'.encode(), S)
    assert (
        str(info.value)
        == f"json: cannot unmarshal number {digits} into Go struct field T.f of type float32"
    )
    with pytest.raises(GoJsonError, match=r"number into Go struct field T\.name of type string"):
        decode(f'{{"name":{digits}}}'.encode(), S)


def test_fields_case_insensitive_null_keeps_unknown_ignored() -> None:
    assert decode(b'{"NAME":"a","Name":"b","x":[1],"on":null,"f":0.1}', S) == {
        "name": "b",
        "f": Float32(0.1),
    }
    nested = Slice("[]pkg.T", S)
    with pytest.raises(GoJsonError, match=r"Go struct field T\.on of type bool"):
        decode(b'[{"on":true},{"on":3}]', nested)


N = Struct(
    "pkg.N",
    "N",
    {"i": Scalar("int64"), "d": Scalar("float64"), "m": Map("map[string]string", Scalar("string"))},
)


@pytest.mark.parametrize(
    ("data", "decoded"),
    [
        (b'{"i":-3,"d":2,"m":{"a":"b","c":null}}', {"i": -3, "d": 2.0, "m": {"a": "b", "c": ""}}),
        (b'{"d":0.25,"i":9223372036854775807}', {"d": 0.25, "i": 2**63 - 1}),
    ],
)
def test_integers_doubles_and_string_maps(data: bytes, decoded: dict[str, object]) -> None:
    assert decode(data, N) == decoded


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"i":1.5}', "json: cannot unmarshal number 1.5 into Go struct field N.i of type int64"),
        (
            b'{"i":9223372036854775808}',
            "json: cannot unmarshal number 9223372036854775808 into Go struct field N.i of type "
            "int64",
        ),
        (b'{"i":"1"}', "json: cannot unmarshal string into Go struct field N.i of type int64"),
        (
            b'{"d":1e400}',
            "json: cannot unmarshal number 1e400 into Go struct field N.d of type float64",
        ),
        (
            b'{"m":[]}',
            "json: cannot unmarshal array into Go struct field N.m of type map[string]string",
        ),
        (b'{"m":{"a":1}}', "json: cannot unmarshal number into Go struct field N.m of type string"),
    ],
)
def test_integer_double_and_map_type_errors(data: bytes, message: str) -> None:
    with pytest.raises(GoJsonError) as info:
        decode(data, N)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Float32(0.1), "0.1"),
        (Float32(1), "1"),
        (Float32(-0.5), "-0.5"),
        (Float32(0.123456789), "0.12345679"),
        (Float32(1e20), "100000000000000000000"),
        (Float32(1e21), "1e+21"),
        (Float32(1e-7), "1e-7"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (12, "12"),
    ],
)
def test_floats_encoded_like_go(value: float, text: str) -> None:
    assert dumps(value).decode() == text


def test_strings_escaped_like_go() -> None:
    assert dumps('<a&b>\u2028\u2029\n\t\b\f\x01"\\é') == (
        '"\\u003ca\\u0026b\\u003e\\u2028\\u2029\\n\\t\\b\\f\\u0001\\"\\\\é"'.encode()
    )
    assert dumps({"b": [1, None, True], "a": {}}) == b'{"b":[1,null,true],"a":{}}'
    with pytest.raises(ValueError, match="NaN"):
        dumps(float("nan"))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_roundtrip_with_stdlib(value: object) -> None:
    encoded = dumps(value)

    def load(text: str | bytes) -> object:
        # Go writes 7.165909422349726e16 as 71659094223497260: compare numbers as floats.
        return json.loads(text, parse_int=float)

    assert load(encoded) == load(json.dumps(value))
    assert load(json.dumps(parse(encoded))) == load(encoded)
