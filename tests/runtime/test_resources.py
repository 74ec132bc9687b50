"""Package data lookup: the installed wheel's folders, and the source checkout's as a fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import resources

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the source-checkout lookups at this repository (also when the wheel is installed)."""
    monkeypatch.setattr(resources, "_SOURCE_ROOT", REPO)
    resources._load.cache_clear()


@pytest.fixture
def no_source_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An installed wheel: no schemas/ beside the package."""
    monkeypatch.setattr(resources, "_SOURCE_ROOT", tmp_path)
    resources._load.cache_clear()


@pytest.mark.usefixtures("source_checkout")
def test_source_schemas_are_found_in_a_source_checkout() -> None:
    assert "job" in resources.schema_names()
    assert resources.load_schema("job")["$id"].startswith("https://schemas.videogen.dev/job/")


@pytest.mark.usefixtures("source_checkout")
def test_load_schema_returns_a_fresh_copy_each_time() -> None:
    first = resources.load_schema("job")
    first["title"] = "changed"
    assert resources.load_schema("job")["title"] != "changed"


@pytest.mark.usefixtures("no_source_checkout")
def test_without_a_source_checkout_schema_names_points_to_the_bundles() -> None:
    with pytest.raises(FileNotFoundError, match="bundles"):
        resources.schema_names()


@pytest.mark.usefixtures("no_source_checkout")
def test_without_a_source_checkout_load_schema_points_to_the_bundles() -> None:
    with pytest.raises(FileNotFoundError, match="bundles"):
        resources.load_schema("job")


def test_an_unknown_schema_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        resources.load_schema("no-such-area")


def test_without_packaged_data_the_source_checkout_folders_are_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(resources.resources, "files", lambda package: tmp_path / package)
    assert resources.schema_dir() == resources._SOURCE_ROOT / "schemas"
    assert resources.sql_dir() == resources._SOURCE_ROOT / "sql"


def test_load_bundle_returns_a_fresh_copy_each_time() -> None:
    first = resources.load_bundle("Job")
    first["title"] = "changed"
    assert resources.load_bundle("Job")["title"] != "changed"


@pytest.mark.parametrize("name", ["NoSuchContract", "../index", "index"])
def test_an_unknown_bundle_is_file_not_found(name: str) -> None:
    with pytest.raises(FileNotFoundError):
        resources.load_bundle(name)


def test_sql_scripts_come_generated_first_then_handwritten_sorted() -> None:
    names = [name for name, _ in resources.sql_scripts()]
    generated = [n for n in names if n.startswith("generated/")]
    handwritten = [n for n in names if n.startswith("handwritten/")]
    assert names == generated + handwritten
    assert handwritten == sorted(handwritten)
    assert generated
    assert handwritten


def test_sql_scripts_skip_a_missing_part_and_files_that_are_not_sql(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "handwritten").mkdir()
    (tmp_path / "handwritten" / "010_a.sql").write_text("select 1;", encoding="utf-8")
    (tmp_path / "handwritten" / "README.md").write_text("notes", encoding="utf-8")
    monkeypatch.setattr(resources, "sql_dir", lambda: tmp_path)
    assert resources.sql_scripts() == [("handwritten/010_a.sql", "select 1;")]
