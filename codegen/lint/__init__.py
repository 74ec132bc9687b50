"""The schema lint: every problem of ``schemas/`` with a rule id, file, JSON pointer and fix.

Run by ``python -m codegen generate`` and ``check`` before any generator, and alone with
``python -m codegen lint``. Rules are listed in :mod:`codegen.lint._rules` (``--rules``), our
``x-`` keywords in :mod:`codegen.lint._extensions`; docs/schema-authoring.md documents both.
Exit status of the command: 0 no finding, 2 findings (invalid input).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from jsonschema.validators import Draft202012Validator

from codegen.lint._checks import Source, document_findings, node_findings, set_findings
from codegen.lint._extensions import EXTENSIONS, Extension
from codegen.lint._instances import instance_findings
from codegen.lint._model import Finding, pointer
from codegen.lint._rules import RULES, Rule
from codegen.lint._tables import table_findings

__all__ = [
    "EXTENSIONS",
    "RULES",
    "Extension",
    "Finding",
    "Rule",
    "lint_folder",
    "render",
]

_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def _load(folder: Path, shown: str) -> tuple[list[Source], list[Finding]]:
    sources: list[Source] = []
    findings: list[Finding] = []
    paths = sorted(folder.glob("*.schema.json"))
    if not paths:
        findings.append(
            Finding(shown, "", "VG001", f"no *.schema.json file in {shown}", "add schema files")
        )
    for path in paths:
        file = f"{shown}/{path.name}"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            findings.append(Finding(file, "", "VG001", f"not valid JSON: {exc}", "fix the syntax"))
            continue
        except UnicodeDecodeError as exc:
            findings.append(Finding(file, "", "VG001", f"not UTF-8: {exc}", "save it as UTF-8"))
            continue
        if not isinstance(document, dict):
            findings.append(
                Finding(file, "", "VG001", "the file is not a JSON object", "write one schema")
            )
            continue
        sources.append(Source(file, path.name.removesuffix(".schema.json"), document))
    return sources, findings


def _guarded(source_file: str, check: Callable[[], Iterable[Finding]]) -> Iterator[Finding]:
    """Run one check; a crash becomes a VG000 finding instead of a traceback."""
    try:
        yield from list(check())
    except Exception as exc:  # the lint must report, never crash, whatever the input
        yield Finding(
            source_file,
            "",
            "VG000",
            f"a check stopped with {type(exc).__name__}: {exc}",
            "fix the other findings first; if this remains, report it (a bug in the lint)",
        )


def _covered(at: str, taken: set[str]) -> bool:
    return any(at == t or at.startswith(t + "/") or t.startswith(at + "/") or not at for t in taken)


def _meta_findings(source: Source, taken: set[str]) -> Iterator[Finding]:
    """What the official meta-schema refuses that no rule above already reported."""
    for error in _META.iter_errors(source.document):
        at = pointer(*error.absolute_path)
        if _covered(at, taken):
            continue
        taken.add(at)
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        yield source.finding(
            "VG005",
            at,
            f"the draft 2020-12 meta-schema refuses this value: {message}",
            "give the keyword a value of the kind the draft defines",
        )


def lint_folder(folder: Path, shown: str = "schemas") -> list[Finding]:
    """Lint every ``*.schema.json`` file of ``folder``; ``shown`` prefixes the file names."""
    sources, findings = _load(folder, shown)
    by_id = {s.document["$id"]: s for s in sources if isinstance(s.document.get("$id"), str)}
    findings += _guarded(shown, lambda: set_findings(sources))
    for source in sources:
        findings += _guarded(source.file, lambda s=source: document_findings(s))  # type: ignore[misc]
        findings += _guarded(source.file, lambda s=source: node_findings(s, by_id))  # type: ignore[misc]
        findings += _guarded(source.file, lambda s=source: table_findings(s, by_id))  # type: ignore[misc]
        taken = {f.pointer for f in findings if f.file == source.file}
        findings += _guarded(source.file, lambda s=source, t=taken: _meta_findings(s, t))  # type: ignore[misc]
    if not findings:
        findings += _guarded(shown, lambda: instance_findings(sources))
    return sorted(set(findings))


def render(findings: list[Finding]) -> str:
    """The findings as text, one two-line entry each, and a summary line."""
    files = {f.file for f in findings}
    lines = [f.render() for f in findings]
    noun = "problem" if len(findings) == 1 else "problems"
    lines.append(f"lint: {len(findings)} {noun} in {len(files)} file{'s' * (len(files) != 1)}")
    return "\n".join(lines)
