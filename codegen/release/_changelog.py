"""The ``CHANGELOG.md`` entry of a release, written for the consumers of the contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codegen.breaking import Change
from codegen.release._plan import AreaPlan, Level, Plan

__all__ = ["HEADER", "MARKER", "entry", "insert"]

MARKER = "<!-- release entries, newest first (written by `nox -s release`) -->"
HEADER = f"""# Changelog

Releases of the VideoGen contracts: the Python package `videogen-shared` (PyPI) and the npm package
`@videogen/contracts` share one version. Each schema file has its own version in its `$id`
(`https://schemas.videogen.dev/<file>/<major>.<minor>.<patch>`); the bundles of its contracts carry
it. Who breaks, per change:

- **readers**: consumers still validating with the previous schema (objects are closed, so an
  added optional property breaks them);
- **writers**: producers still writing the previous shape, and data already stored;
- **database**: the forward migration would fail or lose data on existing rows.

How versions are decided: [docs/releases.md](docs/releases.md).

{MARKER}
"""

_LEVEL = {Level.MAJOR: "major", Level.MINOR: "minor", Level.PATCH: "patch", Level.NONE: "none"}


def _roles(change: Change) -> str:
    roles = [r for r in ("readers", "writers", "database") if getattr(change, r)]
    return ", ".join(roles) if roles else "nobody"


def _focus(change: Change, instance: Any) -> str:
    """The instance, or only the value at the changed property when the change says where."""
    path = getattr(change, "path", ()) or ()
    value: Any = instance
    names: list[str] = []
    for step in path:
        if step is None and isinstance(value, list) and value:
            value, names = value[0], [*names, "0"]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value, names = value[step], [*names, step]
        else:
            return json.dumps(instance, sort_keys=True, ensure_ascii=False)
    if not names:
        return json.dumps(instance, sort_keys=True, ensure_ascii=False)
    return f"{'.'.join(names)} = {json.dumps(value, sort_keys=True, ensure_ascii=False)}"


def _witness(change: Change) -> str:
    for example in getattr(change, "counterexamples", []) or []:
        if "instance" not in example or example.get("role") not in ("readers", "writers"):
            continue
        text = _focus(change, example["instance"])
        if len(text) > 160:
            continue
        if example.get("valid_under") == "new":
            return f"; e.g. `{text}` is valid now and rejected by the previous schema"
        return f"; e.g. `{text}` was valid and is now rejected"
    return ""


def _change_line(change: Change) -> str:
    accepted = getattr(change, "accepted", None)
    verdict = f"breaks {_roles(change)}" if change.breaking else "breaks nobody"
    if accepted:
        verdict += f"; accepted after review: {accepted}"
    return f"- `{change.pointer}`: {change.message}. **{verdict}** [{change.rule}]" + (
        _witness(change) if change.breaking else ""
    )


def _area_section(plan: AreaPlan) -> list[str]:
    if plan.new is None:
        title = f"### {plan.area}: removed (was {plan.old})"
    elif plan.old is None:
        title = f"### {plan.area} {plan.new}: new schema file"
    else:
        title = f"### {plan.area} {plan.new} (was {plan.old}): {_LEVEL[plan.level]}"
    lines = [title, ""]
    facts = []
    if plan.contracts:
        facts.append(f"Contracts (bundles): {', '.join(plan.contracts)}.")
    broken = sorted(
        {
            role
            for change in plan.changes
            for role in ("readers", "writers", "database")
            if getattr(change, role)  # accepted after review or not: consumers must know
        }
    )
    if broken:
        facts.append(f"Breaks: {', '.join(broken)}.")
    if facts:
        lines += [*facts, ""]
    lines.extend(_change_line(change) for change in plan.changes)
    lines.extend(f"- Version moves because {reason}." for reason in plan.reasons)
    lines.append("")
    return lines


def entry(plan: Plan, date: str) -> str:
    """Return the changelog entry of ``plan`` (a ``## v<version>`` section)."""
    lines = [f"## {plan.tag} ({date})", ""]
    install = (
        f"Install: `pip install 'videogen-shared=={plan.version}'` (add `[all]` for the clients) "
        f"or `npm install @videogen/contracts@{plan.version}`."
    )
    if plan.previous is None:
        lines += ["First release of the contracts.", "", install, ""]
        lines += ["| schema file | version | contracts (bundles) |", "|---|---|---|"]
        for area in plan.areas:
            lines.append(f"| {area.area} | {area.new} | {', '.join(area.contracts) or '-'} |")
        lines.append("")
    else:
        lines += [f"{_LEVEL[plan.level].capitalize()} release after {plan.previous.tag}.", ""]
        lines += [install, ""]
        moving = [a for a in plan.areas if a.moves]
        if not moving:
            lines += [
                "No contract changed: every schema file keeps its version. The library changed "
                f"({len(plan.library_changes)} shipped files: "
                f"`git log {plan.previous.tag}..{plan.tag}`).",
                "",
            ]
        else:
            lines += [
                "| schema file | version | level | contracts (bundles) |",
                "|---|---|---|---|",
            ]
        for area in moving:
            old = area.old or "(new)"
            new = area.new or "(removed)"
            contracts = ", ".join(area.contracts) or "-"
            lines.append(f"| {area.area} | {old} → {new} | {_LEVEL[area.level]} | {contracts} |")
        if moving:
            lines.append("")
        for area in moving:
            lines.extend(_area_section(area))
    if plan.migrations:
        since = f"since {plan.previous.tag}" if plan.previous else "in this release"
        lines.append(f"Database migrations {since} (apply in order):")
        lines.append("")
        lines.extend(f"- `sql/migrations/{name}`" for name in plan.migrations)
        lines.append("")
    else:
        lines += ["No database migration.", ""]
    return "\n".join(lines)


def insert(path: Path, text: str) -> None:
    """Put ``text`` at the top of the entries of ``path`` (created with :data:`HEADER`)."""
    current = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if MARKER not in current:
        current = current.rstrip("\n") + "\n\n" + MARKER + "\n"
    head, _, rest = current.partition(MARKER)
    body = rest.lstrip("\n")
    path.write_text(f"{head}{MARKER}\n\n{text.rstrip()}\n" + (f"\n{body}" if body else ""), "utf-8")
