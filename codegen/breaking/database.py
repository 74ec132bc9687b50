"""The database role: each unsafe SQL effect of the migration, on the schema change causing it.

:mod:`codegen.migrations` decides from the tables generated for both versions; an effect is
attached to the schema change at the same property (or at the definition the column refers to),
so a change has one verdict per role; it is a change of its own only when no schema change
explains it (an ``x-table`` or ``x-sql`` edit).
"""

from __future__ import annotations

from codegen.breaking.model import Change
from codegen.breaking.rules import refs_in
from codegen.breaking.sides import Side
from codegen.migrations import declared_renames, plan_migration
from codegen.sql import tables

__all__ = ["attach_database"]

_NOTES = ("annotation-changed", "default-changed")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def attach_database(changes: list[Change], old: Side, new: Side) -> list[Change]:
    """Mark the changes that break the database; return the SQL-only changes to add."""
    old_tables, new_tables = tables(old.schemas), tables(new.schemas)
    if not old_tables and not new_tables:
        return []
    plan = plan_migration(old_tables, new_tables, declared_renames(new.schemas))
    owners = {t.name: (t.area, t.definition) for t in new_tables}
    owners.update({t.name: (t.area, t.definition) for t in old_tables})
    extra: list[Change] = []
    for unsafe in plan.unsafe:
        area, definition = owners[unsafe.table]
        pointer = f"/$defs/{_escape(definition)}"
        if unsafe.column:
            pointer += f"/properties/{_escape(unsafe.column)}"
        causes = _causes(changes, (old, new), area, definition, pointer, unsafe.column)
        for cause in causes:
            cause.database = True
            cause.sql.append(f"[{unsafe.rule}] {unsafe.message}")
        if not causes:
            extra.append(
                Change(
                    unsafe.rule,
                    area,
                    definition,
                    pointer,
                    unsafe.message,
                    database=True,
                    prop=unsafe.column,
                )
            )
    return extra


def _causes(
    changes: list[Change],
    sides: tuple[Side, Side],
    area: str,
    definition: str,
    pointer: str,
    column: str | None,
) -> list[Change]:
    """The schema changes an SQL effect at ``pointer`` follows from."""
    if column is None:
        return [
            c
            for c in changes
            if (c.rule == "definition-removed" and c.area == area and c.pointer == pointer)
            or (c.rule == "schema-removed" and c.area == area)
        ]
    own = [
        c
        for c in changes
        if c.area == area
        and c.definition == definition
        and c.rule not in _NOTES
        and (
            c.pointer == pointer
            or c.pointer.startswith(pointer + "/")
            or (c.pointer.endswith("/required") and c.path[:1] == (column,))
            or (c.rule == "property-renamed" and column in c.values)
        )
    ]
    if own:
        # A narrowed CHECK or a dropped column follows from what old writers lose.
        return [c for c in own if c.writers] or own
    # A column whose property refers to a changed scalar definition (Url, Money...).
    referenced: set[tuple[str, str]] = set()
    for side in sides:
        if area not in side.docs:
            continue
        node = side.definitions(area).get(definition, {})
        prop = node.get("properties", {}).get(column) if isinstance(node, dict) else None
        if prop is not None:
            referenced |= {side.identity[r] for r in refs_in(prop)}
    return [
        c
        for c in changes
        if (c.area, c.definition) in referenced and c.breaking and c.rule not in _NOTES
    ]
