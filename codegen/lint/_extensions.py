"""The registry of the project's own ``x-`` keywords, each with the schema its value must match.

This is the one list of our extensions: the lint refuses any other ``x-`` keyword (rule VG003) and
checks every value against the schema below (VG004). docs/schema-authoring.md documents each one.
Consumers that validate in strict mode (Ajv) must register every name of :data:`EXTENSIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EXTENSIONS", "Extension", "SQL_TYPES"]

_COLUMN = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
_COLUMNS = {"type": "array", "items": _COLUMN, "minItems": 1, "uniqueItems": True}

#: SQL column types an ``x-sql.type`` may name.
SQL_TYPES = (
    "text",
    "uuid",
    "timestamptz",
    "date",
    "integer",
    "bigint",
    "smallint",
    "numeric",
    "double precision",
    "real",
    "boolean",
    "jsonb",
)


@dataclass(frozen=True)
class Extension:
    """One registered ``x-`` keyword."""

    name: str
    summary: str
    value_schema: dict[str, Any]


EXTENSIONS: dict[str, Extension] = {
    e.name: e
    for e in (
        Extension(
            "x-table",
            "on an object definition: store it as a PostgreSQL table (name, keys, indexes, and the "
            "columns apply_batch may match and conflict on)",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "primaryKey"],
                "properties": {
                    "name": _COLUMN,
                    "primaryKey": _COLUMNS,
                    "unique": {"type": "array", "items": _COLUMNS},
                    "indexes": {"type": "array", "items": _COLUMNS},
                    "batch": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["match", "conflict"],
                        "properties": {"match": _COLUMNS, "conflict": _COLUMNS},
                    },
                },
            },
        ),
        Extension(
            "x-sql",
            "on a property or scalar definition: the column's SQL type, default, CHECK, foreign "
            "key, digits, update trigger, and what db.transaction() may write (batch)",
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "type": {"enum": list(SQL_TYPES)},
                    "default": {"type": "string", "minLength": 1},
                    "check": {"type": "string", "minLength": 1},
                    "references": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["table", "column"],
                        "properties": {
                            "table": _COLUMN,
                            "column": _COLUMN,
                            "onDelete": {"enum": ["cascade", "restrict", "set null"]},
                        },
                    },
                    "precision": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "scale": {"type": "integer", "minimum": 0, "maximum": 1000},
                    "onUpdate": {"const": True},
                    "batch": {"enum": ["write", "insert", "none"]},
                },
                "dependentRequired": {"precision": ["scale"], "scale": ["precision"]},
            },
        ),
        Extension(
            "x-python-type",
            "on a scalar definition: the exact Python type of the generated models",
            {"type": "string", "pattern": r"^generated\._types\.[A-Z][A-Za-z0-9]*$"},
        ),
        Extension(
            "x-renamed-from",
            "on a property: its previous name, so the gate reports a rename and the migration "
            "renames the column",
            {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        ),
        Extension(
            "x-open",
            "on an object schema that is deliberately open (no additionalProperties: false): why",
            {"type": "string", "minLength": 10},
        ),
    )
}
