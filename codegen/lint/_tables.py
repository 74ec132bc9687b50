"""Checks of the definitions stored as tables: named columns exist, SQL types hold the JSON type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from codegen.lint._checks import Source
from codegen.lint._model import Finding, did_you_mean, pointer, show

__all__ = ["table_findings"]

_JSON_TO_SQL = {
    "string": "text",
    "integer": "integer",
    "number": "double precision",
    "boolean": "boolean",
    "object": "jsonb",
    "array": "jsonb",
}
#: SQL types that can hold every value of a JSON type (more conditions in ``_condition``).
_HOLDS = {
    "string": {"text", "uuid", "timestamptz", "date", "numeric", "jsonb"},
    "integer": {"integer", "bigint", "smallint", "numeric", "jsonb"},
    "number": {"double precision", "numeric", "jsonb"},
    "boolean": {"boolean", "jsonb"},
    "object": {"jsonb"},
    "array": {"jsonb"},
}
_INT_RANGE = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_UNRESOLVED = "<unresolved $ref>"
_REF = re.compile(r"^(?P<id>[^#]*)#/\$defs/(?P<name>[^/]+)$")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resolve(
    source: Source, by_id: dict[str, Source], prop: dict[str, Any]
) -> dict[str, Any] | None:
    """The property with one ``anyOf [X, null]`` unwrapped and one ``$ref`` followed."""
    node = dict(prop)
    variants = node.pop("anyOf", None)
    if isinstance(variants, list):
        others = [v for v in variants if v != {"type": "null"}]
        if len(others) != 1 or not isinstance(others[0], dict):
            return None
        node = {**others[0], **node}
    ref = node.pop("$ref", None)
    if isinstance(ref, str):
        match = _REF.match(ref)
        target_doc = by_id.get(match["id"]) if match and match["id"] else source
        target = target_doc.definitions().get(match["name"]) if match and target_doc else None
        if not isinstance(target, dict):
            return {"type": _UNRESOLVED}  # VG006/VG007 report it
        x_sql = {**_mapping(target.get("x-sql")), **_mapping(node.get("x-sql"))}
        node = {**target, **node, "x-sql": x_sql}
    json_type = node.get("type")
    if isinstance(json_type, list):
        single = [t for t in json_type if t != "null"]
        node["type"] = single[0] if len(single) == 1 else None
    return node


def _condition(json_type: str, sql_type: str, node: dict[str, Any]) -> str | None:
    """Why ``sql_type`` cannot hold every valid value of ``node``, or ``None``."""
    fmt = node.get("format")
    if json_type == "string" and sql_type == "uuid" and fmt != "uuid":
        return 'a string stored as uuid needs "format": "uuid"'
    if json_type == "string" and sql_type == "timestamptz" and fmt != "date-time":
        return 'a string stored as timestamptz needs "format": "date-time"'
    if json_type == "string" and sql_type == "date" and fmt != "date":
        return 'a string stored as date needs "format": "date"'
    if json_type == "string" and sql_type == "numeric" and "pattern" not in node:
        return "a string stored as numeric needs a pattern that admits decimal numbers only"
    if json_type == "integer" and sql_type in _INT_RANGE:
        limit = _INT_RANGE[sql_type]
        low, high = node.get("minimum"), node.get("maximum")
        if not isinstance(low, int | float) or not isinstance(high, int | float):
            return f"an integer stored as {sql_type} needs a minimum and a maximum"
        if low < -limit or high > limit - 1:
            return f"{sql_type} holds {-limit}..{limit - 1}, the schema admits {low}..{high}"
    return None


def table_findings(source: Source, by_id: dict[str, Source]) -> Iterator[Finding]:
    """VG021 and VG018 for every definition of ``source`` that carries ``x-table``."""
    tables = {
        d["x-table"].get("name"): d
        for s in by_id.values()
        for d in s.definitions().values()
        if isinstance(d, dict) and isinstance(d.get("x-table"), dict)
    }
    for name, schema in source.definitions().items():
        spec = schema.get("x-table") if isinstance(schema, dict) else None
        props = schema.get("properties") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(props, dict):
            continue
        yield from _named_columns(source, name, spec, list(props))
        for column, prop in props.items():
            if isinstance(prop, dict):
                at = ("$defs", name, "properties", column)
                yield from _column_type(source, by_id, at, prop)
                yield from _reference(source, at, prop, tables)


def _named_columns(
    source: Source, name: str, spec: dict[str, Any], columns: list[str]
) -> Iterator[Finding]:
    groups: list[tuple[tuple[str | int, ...], Any]] = [(("primaryKey",), spec.get("primaryKey"))]
    for key in ("unique", "indexes"):
        for index, group in enumerate(spec.get(key) or []):
            groups.append(((key, index), group))
    batch: dict[str, Any] = spec["batch"] if isinstance(spec.get("batch"), dict) else {}
    for key in ("match", "conflict"):
        groups.append((("batch", key), batch.get(key)))
    for tokens, group in groups:
        for index, column in enumerate(group if isinstance(group, list) else []):
            if isinstance(column, str) and column not in columns:
                yield source.finding(
                    "VG021",
                    pointer("$defs", name, "x-table", *tokens, index),
                    f"x-table names the column {show(column)}, which is not a property of "
                    f"{name}.{did_you_mean(column, columns)}",
                    "name a property of the definition (after a rename, the new name)",
                )


def _column_type(
    source: Source, by_id: dict[str, Source], at: tuple[str, ...], prop: dict[str, Any]
) -> Iterator[Finding]:
    node = _resolve(source, by_id, prop)
    if node is not None and node.get("type") == _UNRESOLVED:
        return
    if node is None or node.get("type") not in _HOLDS:
        yield source.finding(
            "VG023",
            pointer(*at),
            f"column {show(at[-1])} has no single JSON type the DDL generator can map",
            'give it one "type" (or ["<type>", "null"]), a $ref to a typed definition, or '
            'anyOf [<that>, {"type": "null"}]',
        )
        return
    json_type: str = node["type"]
    x_sql: dict[str, Any] = node["x-sql"] if isinstance(node.get("x-sql"), dict) else {}
    sql_type = x_sql.get("type") or _JSON_TO_SQL[json_type]
    batch = _mapping(prop.get("x-sql")).get("batch")
    if batch in ("write", "insert") and (sql_type == "numeric" or x_sql.get("onUpdate")):
        yield source.finding(
            "VG004",
            pointer(*at, "x-sql", "batch"),
            f"x-sql.batch {show(batch)} on a money or trigger-maintained column: only the cost "
            "functions (or the trigger) may write it",
            'use "batch": "none" (or leave it out: that is the default for such columns)',
        )
    problem = None
    if sql_type not in _HOLDS[json_type]:
        problem = f"a {json_type} cannot be stored in a {sql_type} column"
    else:
        problem = _condition(json_type, sql_type, node)
    if problem is not None:
        yield source.finding(
            "VG018",
            pointer(*at),
            f"column {show(at[-1])}: {problem}",
            f"set x-sql.type to a type that holds every valid {json_type} (default for "
            f"{json_type}: {_JSON_TO_SQL[json_type]}), or constrain the schema",
        )


def _reference(
    source: Source, at: tuple[str, ...], prop: dict[str, Any], tables: dict[Any, Any]
) -> Iterator[Finding]:
    x_sql = prop.get("x-sql")
    ref = x_sql.get("references") if isinstance(x_sql, dict) else None
    if not isinstance(ref, dict) or not isinstance(ref.get("table"), str):
        return
    table = tables.get(ref["table"])
    if table is None:
        yield source.finding(
            "VG021",
            pointer(*at, "x-sql", "references", "table"),
            f"x-sql.references names the table {show(ref['table'])}, which no definition "
            f"stores.{did_you_mean(ref['table'], [t for t in tables if isinstance(t, str)])}",
            "reference the x-table name of a definition",
        )
        return
    columns = list(table.get("properties") or {})
    if ref.get("column") not in columns:
        yield source.finding(
            "VG021",
            pointer(*at, "x-sql", "references", "column"),
            f"x-sql.references names the column {show(ref.get('column'))}, which is not a "
            f"column of {ref['table']}.{did_you_mean(str(ref.get('column')), columns)}",
            f"reference a column of {ref['table']}",
        )
