"""The draft 2020-12 vocabularies: which keywords exist, where subschemas are, what values mean.

Each keyword value is checked here with a message a schema author can act on (VG005); the
official meta-schema is run afterwards as a backstop for anything these tables do not cover.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from codegen.lint._model import did_you_mean, show

__all__ = [
    "FORMATS",
    "KEYWORDS",
    "SCHEMA_ARRAY",
    "SCHEMA_MAP",
    "SCHEMA_SINGLE",
    "TYPES",
    "value_problems",
]

SCHEMA_SINGLE = frozenset(
    {
        "additionalProperties",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "not",
        "items",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
SCHEMA_MAP = frozenset({"$defs", "properties", "patternProperties", "dependentSchemas"})
SCHEMA_ARRAY = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})

_NON_NEGATIVE = frozenset(
    {
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
    }
)
_NUMBERS = frozenset({"maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "multipleOf"})
_STRINGS = frozenset(
    {
        "$schema",
        "$id",
        "$ref",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$comment",
        "title",
        "description",
        "pattern",
        "format",
        "contentEncoding",
        "contentMediaType",
    }
)
_BOOLEANS = frozenset({"uniqueItems", "deprecated", "readOnly", "writeOnly"})
_OTHERS = frozenset(
    {"$vocabulary", "type", "const", "enum", "required", "dependentRequired", "default", "examples"}
)

#: Every keyword of the draft 2020-12 vocabularies (core, applicator, unevaluated, validation,
#: meta-data, format-annotation, content).
KEYWORDS = (
    SCHEMA_SINGLE | SCHEMA_MAP | SCHEMA_ARRAY | _NON_NEGATIVE | _NUMBERS | _STRINGS | _BOOLEANS
) | _OTHERS

TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")

#: The formats draft 2020-12 defines, less ``iri`` and ``iri-reference``: the code generators do
#: not load their checker (see :mod:`codegen`), so an example could not be verified.
FORMATS = (
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
)

_BOUNDS = (
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
    ("minProperties", "maxProperties"),
    ("minContains", "maxContains"),
    ("minimum", "maximum"),
)

Problem = tuple[str, str, str]  # (keyword, message, fix)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _quoted_number_fix(keyword: str, value: Any, what: str) -> str:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return f"give {keyword} {what}"
        text = str(int(number)) if number.is_integer() else value
        return f"write {keyword}: {text} (a JSON number, without the quotes)"
    return f"give {keyword} {what}"


def _type_problems(value: Any) -> Iterator[Problem]:
    names = value if isinstance(value, list) else [value]
    if isinstance(value, list) and (not value or len(set(map(str, value))) != len(value)):
        yield "type", f"type {show(value)} must list distinct type names", "list each type once"
    for name in names:
        if not isinstance(name, str) or name not in TYPES:
            hint = did_you_mean(name, TYPES) if isinstance(name, str) else ""
            yield (
                "type",
                f"{show(name)} is not a JSON Schema type.{hint}",
                f"use one of {', '.join(TYPES)}",
            )


def _single_problems(keyword: str, value: Any) -> Iterator[Problem]:
    if keyword in _NON_NEGATIVE and not (_is_int(value) and value >= 0):
        yield (
            keyword,
            f"{keyword} must be a non-negative integer, not {show(value)}",
            _quoted_number_fix(keyword, value, "a whole number >= 0"),
        )
    elif keyword in _NUMBERS and not _is_number(value):
        yield (
            keyword,
            f"{keyword} must be a number, not {show(value)}",
            _quoted_number_fix(keyword, value, "a JSON number"),
        )
    elif keyword == "multipleOf" and value <= 0:
        yield (
            keyword,
            f"multipleOf must be greater than 0, not {show(value)}",
            "use a positive number",
        )
    elif keyword in _STRINGS and not isinstance(value, str):
        yield keyword, f"{keyword} must be a string, not {show(value)}", f"give {keyword} a string"
    elif keyword in _BOOLEANS and not isinstance(value, bool):
        yield keyword, f"{keyword} must be true or false, not {show(value)}", "write true or false"
    elif keyword == "format" and value not in FORMATS:
        yield (
            keyword,
            f"format {show(value)} is not a draft 2020-12 format.{did_you_mean(value, FORMATS)}",
            "use a defined format (date-time, uuid, uri...) or a pattern",
        )
    elif keyword == "type":
        yield from _type_problems(value)
    elif keyword in ("enum", "examples") and not isinstance(value, list):
        yield (
            keyword,
            f"{keyword} must be an array, not {show(value)}",
            f"wrap the value: [{show(value)}]",
        )
    elif keyword == "enum" and not value:
        yield keyword, "enum must list at least one value", "list the allowed values"
    elif keyword == "required" and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        yield (
            keyword,
            f"required must be an array of property names, not {show(value)}",
            ('write required: ["name", ...]'),
        )
    elif keyword == "required" and len(set(value)) != len(value):
        yield keyword, "required names a property twice", "list each required property once"
    elif keyword in SCHEMA_SINGLE and not isinstance(value, dict | bool):
        yield (
            keyword,
            f"{keyword} must be a schema (an object or a boolean), not {show(value)}",
            (f"give {keyword} a schema object, or true/false"),
        )
    elif keyword in SCHEMA_MAP and not (
        isinstance(value, dict) and all(isinstance(v, dict | bool) for v in value.values())
    ):
        yield (
            keyword,
            f"{keyword} must map names to schemas (objects or booleans)",
            (f'write {keyword}: {{"name": {{...schema...}}}}'),
        )
    elif keyword in SCHEMA_ARRAY and not (
        isinstance(value, list) and value and all(isinstance(v, dict | bool) for v in value)
    ):
        yield (
            keyword,
            f"{keyword} must be a non-empty array of schemas",
            (f"write {keyword}: [{{...}}, {{...}}]"),
        )


def value_problems(node: dict[str, Any]) -> Iterator[Problem]:
    """Problems with the values of the known keywords of one schema object."""
    for keyword, value in node.items():
        if keyword in KEYWORDS:
            yield from _single_problems(keyword, value)
    for low, high in _BOUNDS:
        lo: Any = node.get(low)
        hi: Any = node.get(high)
        if _is_number(lo) and _is_number(hi) and lo > hi:
            yield (
                low,
                f"{low} {lo} is greater than {high} {hi}: no value can pass",
                (f"make {low} at most {high}"),
            )
