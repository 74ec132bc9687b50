"""What the gate reports: changes with a verdict per role, the report, the rule table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ADDITIONS",
    "RULES",
    "Change",
    "GateInputError",
    "Path_",
    "Report",
    "Rule",
]


class GateInputError(ValueError):
    """The gate cannot run on its input (bad schema, unreadable base): exit status 2."""


@dataclass(frozen=True)
class Rule:
    """A rule id: what it detects and how its verdict is decided."""

    summary: str
    #: ``exact`` (decided both ways for the admitted subset), ``exact, else conservative`` (exact
    #: in the cases listed by ``how``, otherwise a break is reported with the reason) or
    #: ``conservative`` (a break is reported whenever containment is not proven).
    procedure: str
    how: str


_SUBSET = "containment of the old schema in the new one (writers) and back (readers)"

#: Rule id -> what it detects and its decision procedure.
RULES: dict[str, Rule] = {
    "schema-removed": Rule("a schema file was removed", "exact", "every consumer breaks"),
    "schema-added": Rule("a schema file was added", "exact", "nobody breaks"),
    "definition-removed": Rule("a definition was removed", "exact", "readers and writers break"),
    "definition-added": Rule("a definition was added", "exact", "nobody breaks"),
    "property-removed": Rule("a property was removed", "exact", _SUBSET + " of that property"),
    "property-renamed": Rule("a property was renamed (x-renamed-from)", "exact", _SUBSET),
    "property-added-optional": Rule("an optional property was added", "exact", _SUBSET),
    "property-added-required": Rule("a required property was added", "exact", _SUBSET),
    "optional-made-required": Rule("an optional property became required", "exact", _SUBSET),
    "required-made-optional": Rule("a required property became optional", "exact", _SUBSET),
    "type-narrowed": Rule("the type admits fewer JSON types", "exact", "type sets per atom"),
    "type-widened": Rule("the type admits more JSON types", "exact", "type sets per atom"),
    "type-changed": Rule("the type changed both ways", "exact", "type sets per atom"),
    "nullability-removed": Rule("null is no longer accepted", "exact", "validation of null"),
    "nullability-added": Rule("null is now accepted", "exact", "validation of null"),
    "enum-value-removed": Rule("an enum/const value was removed", "exact", "values validated"),
    "enum-value-added": Rule("an enum/const value was added", "exact", "values validated"),
    "constraint-tightened": Rule(
        "a bound, length, count, multipleOf, uniqueItems or format tightened",
        "exact",
        "interval and divisibility arithmetic (integer multipleOf; float multipleOf only equal)",
    ),
    "constraint-loosened": Rule("a constraint loosened", "exact", "as constraint-tightened"),
    "constraint-changed": Rule(
        "a constraint changed both ways, or its containment is not decided",
        "conservative",
        "pattern (regular-expression inclusion), format, float multipleOf, contains, "
        "propertyNames, dependentSchemas, if/then/else, unevaluated*, overlapping "
        "patternProperties: proven only when equal, else a break with a reason",
    ),
    "union-changed": Rule(
        "anyOf/oneOf/allOf/not changed",
        "exact, else conservative",
        "branch-wise containment; oneOf needs disjoint branches (proven by type, value, "
        "range or required-property disjointness, else conservative)",
    ),
    "reference-changed": Rule(
        "a $ref points at another definition", "exact", "the two targets are compared"
    ),
    "items-changed": Rule(
        "items/prefixItems changed",
        "exact, else conservative",
        "position-wise containment of item schemas (contains: only when equal)",
    ),
    "additional-properties-changed": Rule(
        "additionalProperties/patternProperties/unevaluatedProperties changed",
        "exact, else conservative",
        "name-wise containment (patterns overlapping conservatively)",
    ),
    "schema-replaced": Rule(
        "a boolean schema replaced a schema or the other way", "exact", _SUBSET
    ),
    "definition-changed": Rule(
        "the definition admits other instances through an interaction of changes",
        "exact",
        "definition-level containment, attributed here when no single change explains it",
    ),
    "default-changed": Rule("a default value changed", "exact", "validation unaffected"),
    "annotation-changed": Rule(
        "a description, title, example or order changed", "exact", "validation unaffected"
    ),
    "equivalent-rewrite": Rule(
        "a keyword changed but the schema admits the same instances", "exact", _SUBSET
    ),
    "version-not-bumped": Rule("a break without a major $id bump", "exact", "version compare"),
    "sql-column-dropped": Rule("a migration drops a column", "exact", "migration plan"),
    "sql-table-dropped": Rule("a migration drops a table", "exact", "migration plan"),
    "sql-type-changed": Rule("a migration changes a column type", "exact", "migration plan"),
    "sql-not-null-added": Rule("a migration adds NOT NULL", "exact", "migration plan"),
    "sql-column-added-not-null": Rule(
        "a migration adds a NOT NULL column without default", "exact", "migration plan"
    ),
    "sql-check-narrowed": Rule("a migration narrows a CHECK", "exact", "migration plan"),
    "sql-unique-added": Rule("a migration adds a unique constraint", "exact", "migration plan"),
    "sql-primary-key-changed": Rule("a migration changes a primary key", "exact", "plan"),
    "sql-foreign-key-changed": Rule("a migration changes a foreign key", "exact", "plan"),
    "sql-rename-trigger-column": Rule("a renamed column has a trigger", "exact", "plan"),
}

#: Rules that add something: a minor version when nothing breaks (patch otherwise).
ADDITIONS = frozenset(
    {
        "schema-added",
        "definition-added",
        "property-added-optional",
        "enum-value-added",
        "type-widened",
        "nullability-added",
        "constraint-loosened",
        "required-made-optional",
    }
)

Path_ = tuple[str | int | None, ...]


@dataclass
class Change:
    """One difference between the two versions, with its verdict per role.

    ``readers`` break when an instance valid under the new schema is invalid under the old one;
    ``writers`` when an instance valid under the old schema is invalid under the new one;
    ``database`` when the forward migration would fail or lose data.
    """

    rule: str
    area: str
    definition: str
    pointer: str
    message: str
    readers: bool = False
    writers: bool = False
    database: bool = False
    prop: str | None = None
    values: list[Any] = field(default_factory=list)
    accepted: str | None = None
    #: Per broken role: ``{"role", "valid_under": "new"|"old", "instance"}`` (checked with both
    #: versions' validators), or ``{"role", "valid_under", "reason"}`` when none was produced.
    counterexamples: list[dict[str, Any]] = field(default_factory=list)
    #: The SQL effects attached to this change (``[rule] message``).
    sql: list[str] = field(default_factory=list)
    #: Where the change is in an instance of ``definition`` (``None``: any array item).
    path: Path_ = ()
    #: The change id (see :func:`codegen.breaking.allow.change_id`), set by ``compare``.
    id: str = ""
    #: Why a role is reported broken without proof of an instance, per role.
    conservative: dict[str, str] = field(default_factory=dict)

    @property
    def breaking(self) -> bool:
        """True when the change breaks at least one role."""
        return self.readers or self.writers or self.database

    @property
    def kind(self) -> str:
        """``breaking``, ``addition`` (a minor version) or ``patch`` (nothing admitted changes)."""
        if self.breaking:
            return "breaking"
        if self.rule in ADDITIONS:
            return "addition"
        return "patch"


@dataclass
class Report:
    """Every change found, the versions of each file, and the gate's verdict."""

    changes: list[Change]
    failures: list[str]
    old_versions: dict[str, str]
    new_versions: dict[str, str]
    #: Allow-list entries that matched no change of this comparison.
    warnings: list[str] = field(default_factory=list)
    #: A ready-to-review allow-list entry for every unaccepted failing change.
    suggestions: list[dict[str, str]] = field(default_factory=list)
    #: What the new version was compared with (a ref, a snapshot folder).
    base: str = ""

    @property
    def ok(self) -> bool:
        """True when the gate passes."""
        return not self.failures
