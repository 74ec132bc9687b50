"""Docs that quote generated facts stay in step with the code they quote."""

from __future__ import annotations

from pathlib import Path

from codegen.pydantic_models import DATAMODEL_CODEGEN_OPTIONS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_contracts_doc_lists_every_datamodel_codegen_option() -> None:
    text = (DOCS / "contracts.md").read_text(encoding="utf-8")
    flags = [option for option in DATAMODEL_CODEGEN_OPTIONS if option.startswith("--")]
    missing = [flag for flag in flags if f"`{flag}" not in text]
    assert not missing, f"docs/contracts.md does not list {missing}"


def test_readme_links_resolve_to_files() -> None:
    readme = DOCS.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    targets = [part.split(")")[0] for part in text.split("](")[1:]]
    local = [t.split("#")[0] for t in targets if t and not t.startswith(("http", "#"))]
    missing = [t for t in local if not (readme.parent / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
