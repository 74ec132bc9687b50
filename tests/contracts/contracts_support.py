"""Helpers shared by the contract fidelity tests: models by name, strategies, JSON comparison."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any
from uuid import UUID

from hypothesis import strategies as st
from jsonschema import ValidationError as SchemaError
from pydantic import BaseModel

import generated
from runtime.contracts import contract_definitions, dereferenced_schema, ecma_pattern, validator_for

CONTRACTS = contract_definitions()
CONTRACT_IDS = [f"{area}.{name}" for area, name in CONTRACTS]
PERSISTED = ["Job", "JobStage", "JobCost", "CostReservation"]

_FRACTION = re.compile(r"(\.[0-9]+)")


#: Why an invalid-corpus instance is invalid: category -> what the JSON Schema validator reports.
CATEGORIES: dict[str, str] = {
    "missing-required": "a required property is absent (required)",
    "wrong-enum": "a value outside an enum (enum)",
    "out-of-range": "a number beyond a bound (minimum, maximum, exclusiveMinimum)",
    "wrong-type": "a value of another JSON type (type)",
    "null-not-allowed": "null where the schema does not admit null (type)",
    "malformed-uuid": "a string that is not a canonical UUID (format or pattern of a uuid)",
    "malformed-date-time": "a string that is not an RFC 3339 date-time with offset",
    "malformed-string": "a string off its pattern or length bounds (money, URL, identifiers)",
    "array-size": "an array with too few or too many items (minItems, maxItems)",
    "unknown-property": "a property a closed object does not declare (additionalProperties)",
    "exactly-one-of": "an object matching no branch or several branches of a oneOf",
}
#: Categories every top-level contract's corpus must cover (date-time and uuid where it has one).
REQUIRED_CATEGORIES = (
    "missing-required",
    "wrong-enum",
    "out-of-range",
    "wrong-type",
    "null-not-allowed",
    "malformed-uuid",
    "malformed-date-time",
)


def _leaf_errors(errors: Any) -> Any:
    for error in errors:
        yield error
        yield from _leaf_errors(error.context or [])


def _category(error: SchemaError) -> str | None:
    keyword, schema = error.validator, error.schema
    fmt = schema.get("format") if isinstance(schema, dict) else None
    if keyword in ("format", "pattern") and fmt == "uuid":
        return "malformed-uuid"
    if keyword in ("format", "pattern") and fmt == "date-time":
        return "malformed-date-time"
    if keyword == "type":
        if error.instance is None:
            return "null-not-allowed"
        return None if error.validator_value == "null" else "wrong-type"
    return {
        "required": "missing-required",
        "enum": "wrong-enum",
        "minimum": "out-of-range",
        "maximum": "out-of-range",
        "exclusiveMinimum": "out-of-range",
        "exclusiveMaximum": "out-of-range",
        "pattern": "malformed-string",
        "minLength": "malformed-string",
        "maxLength": "malformed-string",
        "minItems": "array-size",
        "maxItems": "array-size",
        "additionalProperties": "unknown-property",
        "oneOf": "exactly-one-of",
    }.get(str(keyword))


def error_categories(area: str, definition: str, instance: Any) -> set[str]:
    """The categories of every error the shipped validator reports for ``instance``, including
    the errors inside ``anyOf``/``oneOf`` branches (a wrong value for a nullable field fails its
    non-null branch)."""
    errors = _leaf_errors(validator_for(area, definition).iter_errors(instance))
    return {category for error in errors if (category := _category(error)) is not None}


def applicable_categories(area: str, definition: str) -> set[str]:
    """The required categories a contract's schema can violate: enum, bounds, uuid and date-time
    only where the schema has them (missing field, wrong type and null always)."""
    found = {"missing-required", "wrong-type", "null-not-allowed"}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "enum" in node:
                found.add("wrong-enum")
            if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} & set(node):
                found.add("out-of-range")
            if node.get("format") == "uuid":
                found.add("malformed-uuid")
            if node.get("format") == "date-time":
                found.add("malformed-date-time")
            for key, value in node.items():
                if key not in ("examples", "default"):
                    walk(value)

    walk(dereferenced_schema(area, definition))
    return found


def model_for(definition: str) -> type[BaseModel]:
    """The generated model class named like the schema definition."""
    model = getattr(generated, definition)
    assert isinstance(model, type)
    assert issubclass(model, BaseModel)
    return model


ANNOTATIONS = frozenset(
    {"$schema", "title", "description", "default", "examples", "x-sql", "x-table", "x-python-type"}
)
ASSERTIONS = frozenset(
    {
        "type",
        "enum",
        "anyOf",
        "oneOf",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
    }
)
#: Arrays without ``maxItems`` get at most this many items (keeps examples small and fast).
MAX_ARRAY_ITEMS = 4


@cache
def instances(area: str, definition: str, *, allow_x00: bool = True) -> st.SearchStrategy[Any]:
    """Hypothesis strategy for JSON instances valid under one contract's dereferenced schema.

    hypothesis-jsonschema 0.23 no longer runs on current Hypothesis (it relies on a removed
    private API), so this is our own strategy for the subset of JSON Schema the contracts use;
    any other assertion keyword fails loudly instead of being ignored.

    Args:
        area: Schema area.
        definition: Top-level contract name.
        allow_x00: Whether strings may contain U+0000 (PostgreSQL text and jsonb cannot).
    """
    schema = dereferenced_schema(area, definition)
    return schema_strategy(schema, allow_x00=allow_x00)


def schema_strategy(schema: dict[str, Any], *, allow_x00: bool = True) -> st.SearchStrategy[Any]:
    """Strategy for instances of a dereferenced schema (the contracts' subset of 2020-12).

    Raises:
        NotImplementedError: The schema uses an assertion keyword this strategy does not know.
    """
    # Every x- keyword is an annotation: the lint admits only those of its registry
    # (codegen/lint/_extensions.py), none of which constrains instances.
    unknown = {k for k in schema if not k.startswith("x-")} - ANNOTATIONS - ASSERTIONS
    if unknown:
        raise NotImplementedError(f"no strategy for keywords {sorted(unknown)}")
    alphabet = st.characters(codec="utf-8", exclude_characters="" if allow_x00 else "\x00")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of(*(schema_strategy(b, allow_x00=allow_x00) for b in schema["anyOf"]))
    if "oneOf" in schema:
        return _one_of_nullness(schema, allow_x00=allow_x00)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(
            *(schema_strategy({**schema, "type": k}, allow_x00=allow_x00) for k in kind)
        )
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return _numbers(schema)
    if kind == "string":
        return _strings(schema, alphabet)
    if kind == "array":
        return st.lists(
            schema_strategy(schema["items"], allow_x00=allow_x00),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", MAX_ARRAY_ITEMS),
        )
    if kind == "object" and "properties" in schema:
        assert schema.get("additionalProperties") is False, "contracts are closed objects"
        required = set(schema.get("required", []))
        fields = {
            name: schema_strategy(sub, allow_x00=allow_x00)
            for name, sub in schema["properties"].items()
        }
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    if kind == "object":
        assert schema.get("additionalProperties", True) is True
        return st.dictionaries(st.text(alphabet, max_size=12), _json_values(alphabet), max_size=4)
    raise NotImplementedError(f"no strategy for type {kind!r}")


def _null_or_set(branch: dict[str, Any]) -> dict[str, bool]:
    """A ``oneOf`` branch of the contracts' one shape: ``{property: True if set, False if null}``.

    Raises:
        NotImplementedError: The branch constrains anything but the nullness of properties.
    """
    if set(branch) - {"description", "properties"}:
        raise NotImplementedError(f"no strategy for oneOf branch {branch!r}")
    shape: dict[str, bool] = {}
    for name, constraint in branch.get("properties", {}).items():
        if set(constraint) != {"type"} or not isinstance(constraint["type"], str):
            raise NotImplementedError(f"no strategy for oneOf branch {branch!r}")
        shape[name] = constraint["type"] != "null"
    return shape


def _one_of_nullness(schema: dict[str, Any], *, allow_x00: bool) -> st.SearchStrategy[Any]:
    """Objects valid under exactly one branch of a ``oneOf`` that says which properties are set.

    Each branch becomes the object schema with those properties narrowed to null or to their
    non-null variant; instances matching another branch as well are filtered out.
    """
    base = {key: value for key, value in schema.items() if key != "oneOf"}
    shapes = [_null_or_set(branch) for branch in schema["oneOf"]]
    strategies = []
    for shape in shapes:
        properties = dict(base["properties"])
        for name, is_set in shape.items():
            variants = properties[name].get("anyOf", [properties[name]])
            chosen = [v for v in variants if (v.get("type") != "null") is is_set]
            properties[name] = {**chosen[0], "description": properties[name]["description"]}
        strategies.append(schema_strategy({**base, "properties": properties}, allow_x00=allow_x00))

    def holds(instance: dict[str, Any], shape: dict[str, bool]) -> bool:
        return all((instance.get(name) is not None) is is_set for name, is_set in shape.items())

    return st.one_of(*strategies).filter(
        lambda instance: sum(holds(instance, shape) for shape in shapes) == 1
    )


def _numbers(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum")
    exclude_low = "exclusiveMinimum" in schema
    integers = st.integers(
        None if low is None else int(low) + (1 if exclude_low else 0),
        None if high is None else int(high),
    )
    floats = st.floats(low, high, exclude_min=exclude_low, allow_nan=False, allow_infinity=False)
    return integers | floats


def _strings(schema: dict[str, Any], alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    min_size, max_size = schema.get("minLength", 0), schema.get("maxLength")
    fmt = schema.get("format")
    if fmt == "date-time":
        strategy = _rfc3339()
    elif fmt == "uuid":
        strategy = st.uuids().flatmap(lambda u: st.sampled_from([str(u), str(u).upper()]))
    elif fmt is not None:
        raise NotImplementedError(f"no strategy for format {fmt!r}")
    elif "pattern" in schema:
        strategy = st.from_regex(ecma_pattern(schema["pattern"]), alphabet=alphabet)
    else:
        return st.text(alphabet, min_size=min_size, max_size=max_size)
    if "pattern" in schema:
        compiled = re.compile(ecma_pattern(schema["pattern"]))
        strategy = strategy.filter(lambda s: compiled.search(s) is not None)
    return strategy.filter(lambda s: min_size <= len(s) <= (max_size or len(s)))


def _rfc3339() -> st.SearchStrategy[str]:
    """RFC 3339 date-times in every spelling the Timestamp pattern allows."""

    def render(parts: tuple[datetime, int, str, str, str]) -> str:
        moment, digits, sep, zulu, extra = parts
        text = moment.strftime("%Y-%m-%d") + sep + moment.strftime("%H:%M:%S")
        if digits:
            text += "." + (f"{moment.microsecond:06d}" + extra)[:digits]
        offset = moment.utcoffset()
        assert offset is not None
        if not offset and zulu:
            return text + zulu
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
    return st.tuples(
        st.datetimes(timezones=st.just(UTC) | offsets),
        st.integers(0, 9),
        st.sampled_from(["T", "t"]),
        st.sampled_from(["Z", "z", ""]),
        st.from_regex(r"[0-9]{3}", fullmatch=True),
    ).map(render)


def _json_values(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(alphabet, max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(alphabet, max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time as an aware datetime, fraction truncated to microseconds."""
    truncated = _FRACTION.sub(lambda m: m.group(1)[:7], text.upper(), count=1)
    return datetime.fromisoformat(truncated)


def strict_json_equal(left: Any, right: Any) -> bool:
    """JSON equality that does not confuse ``true`` with ``1`` (Python's ``==`` does)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            strict_json_equal(left[k], right[k]) for k in left
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            strict_json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


def assert_round_trip(schema: dict[str, Any], given: Any, produced: Any, path: str = "$") -> None:
    """Assert that ``produced`` (the model's JSON dump) carries exactly what ``given`` said.

    Walks the dereferenced schema next to both values. Equality is exact except for three
    documented normalisations of the serializer: a ``number`` comes back as a JSON float of the
    same value (``4`` -> ``4.0``); a ``uuid`` comes back in lowercase canonical form; a
    ``date-time`` comes back as the same instant with the same UTC offset (``Z`` for +00:00,
    upper-case ``T``/``Z``, trailing fractional zeros dropped, digits beyond microseconds
    truncated). Properties the input omitted must come back with the schema's ``default``.
    """
    if "anyOf" in schema:
        if given is None:
            assert produced is None, f"{path}: null came back as {produced!r}"
            return
        branch = next(b for b in schema["anyOf"] if b.get("type") != "null")
        assert_round_trip(branch, given, produced, path)
        return
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(produced, dict), f"{path}: expected an object, got {produced!r}"
        properties = schema.get("properties")
        if properties is None:  # the open Metadata object: free-form JSON, kept as is
            assert strict_json_equal(given, produced), f"{path}: {given!r} != {produced!r}"
            return
        assert set(produced) == set(properties), f"{path}: keys {sorted(produced)}"
        for name, sub in properties.items():
            if name in given:
                assert_round_trip(sub, given[name], produced[name], f"{path}.{name}")
            else:
                assert "default" in sub, f"{path}.{name}: omitted but has no default"
                assert_round_trip(sub, sub["default"], produced[name], f"{path}.{name}")
    elif kind == "array":
        assert isinstance(produced, list), path
        assert len(produced) == len(given), path
        for index, (item_in, item_out) in enumerate(zip(given, produced, strict=True)):
            assert_round_trip(schema["items"], item_in, item_out, f"{path}[{index}]")
    elif kind == "number":
        assert type(produced) is float, f"{path}: {produced!r} is not a JSON float"
        assert produced == float(given), f"{path}: {given!r} came back as {produced!r}"
    elif kind == "integer":
        assert type(produced) is int, f"{path}: {produced!r} is not a JSON integer"
        assert produced == given, f"{path}: {given!r} came back as {produced!r}"
    elif kind == "string" and schema.get("format") == "date-time":
        assert isinstance(produced, str), path
        assert re.fullmatch(schema["pattern"], produced), f"{path}: {produced!r} off-pattern"
        expected, actual = parse_instant(given), parse_instant(produced)
        assert actual == expected, f"{path}: instant {given!r} came back as {produced!r}"
        assert actual.utcoffset() == expected.utcoffset(), f"{path}: offset changed"
    elif kind == "string" and schema.get("format") == "uuid":
        assert produced == str(UUID(given)), f"{path}: {given!r} came back as {produced!r}"
    else:
        assert strict_json_equal(given, produced), f"{path}: {given!r} came back as {produced!r}"
