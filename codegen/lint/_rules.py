"""The lint's rules: a stable id, a short name and what each one checks.

Ids never change meaning and are never reused; a retired rule keeps its number. The table is
printed by ``python -m codegen lint --rules`` and documented in docs/schema-authoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rule", "rule"]


@dataclass(frozen=True)
class Rule:
    """One lint rule."""

    id: str
    name: str
    summary: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("VG000", "lint-internal", "the lint could not finish a check (a bug in the lint)"),
        Rule("VG001", "invalid-json", "a schema file is not valid JSON"),
        Rule("VG002", "unknown-keyword", "a keyword that is not in the draft 2020-12 vocabularies"),
        Rule("VG003", "unknown-extension", "an x- keyword that is not in the extension registry"),
        Rule("VG004", "extension-value", "an x- keyword whose value its registered schema refuses"),
        Rule("VG005", "keyword-value", "a keyword value of the wrong type or out of range"),
        Rule("VG006", "ref-missing-file", "a $ref to a schema file ($id) that does not exist"),
        Rule("VG007", "ref-missing-definition", "a $ref to a definition that does not exist"),
        Rule("VG008", "required-unknown-property", "required names a property that does not exist"),
        Rule("VG009", "open-object", "an object that is not closed and not marked x-open"),
        Rule("VG010", "id-malformed", "a missing or malformed $id, or one for another file"),
        Rule("VG011", "id-duplicate", "two files with the same $id"),
        Rule("VG012", "id-version", "an $id version that is not semver (MAJOR.MINOR.PATCH)"),
        Rule("VG013", "missing-description", "a definition or property without a description"),
        Rule("VG014", "duplicate-enum-value", "an enum listing the same value twice"),
        Rule("VG015", "invalid-default", "a default value that its own schema refuses"),
        Rule("VG016", "invalid-example", "an examples value that its own schema refuses"),
        Rule("VG017", "pattern-not-ecma262", "a pattern that is not a valid ECMA-262 expression"),
        Rule("VG018", "column-type", "a table column whose SQL type cannot hold the JSON type"),
        Rule("VG019", "schema-dialect", "a file whose $schema is not draft 2020-12"),
        Rule("VG020", "document-metadata", "a file without a title or a description"),
        Rule("VG021", "table-unknown-column", "x-table names a column that is not a property"),
        Rule("VG022", "ref-unsupported", "a $ref that does not point at a definition"),
        Rule("VG023", "column-shape", "a table property with no single JSON type to store"),
    )
}


def rule(rule_id: str) -> Rule:
    """The rule with this id."""
    return RULES[rule_id]
