"""The installed package ships its data: schemas and SQL resolve inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import generated
import runtime
from runtime.contracts import contract_definitions
from runtime.resources import load_schema, schema_dir, schema_names, sql_dir, sql_scripts

AREAS = ["audio", "common", "job", "scene", "video"]


def _installed_from_wheel() -> bool:
    return (resources.files("generated") / "schemas").is_dir()


@pytest.fixture
def wheel_install() -> None:
    if not _installed_from_wheel():
        pytest.skip(
            "source/editable install: schemas and SQL are read from the repository; "
            "this check runs against the built wheel (nox -s tests)"
        )


@pytest.mark.usefixtures("wheel_install")
def test_schema_dir_is_inside_the_installed_generated_package() -> None:
    package = Path(str(resources.files("generated"))).resolve()
    folder = Path(str(schema_dir())).resolve()
    assert folder == package / "schemas"
    assert not (package.parent / "pyproject.toml").exists(), "imported from a source tree"


@pytest.mark.usefixtures("wheel_install")
def test_sql_dir_is_inside_the_installed_runtime_package() -> None:
    package = Path(str(resources.files("runtime"))).resolve()
    assert Path(str(sql_dir())).resolve() == package / "sql"


def test_every_contract_area_ships_a_schema_with_a_versioned_id() -> None:
    assert schema_names() == AREAS
    for area in AREAS:
        assert load_schema(area)["$id"].startswith(f"https://schemas.videogen.dev/{area}/")


def test_sql_ships_generated_ddl_before_hand_written_scripts() -> None:
    names = [name for name, _ in sql_scripts()]
    assert names[0] == "generated/schema.sql"
    assert any(name.startswith("handwritten/") for name in names)
    generated_last = max(i for i, n in enumerate(names) if n.startswith("generated/"))
    assert all(n.startswith("handwritten/") for n in names[generated_last + 1 :])
    assert 'CREATE TABLE public."jobs"' in dict(sql_scripts())["generated/schema.sql"]


def test_every_top_level_contract_has_a_generated_model() -> None:
    for _area, definition in contract_definitions():
        assert definition in generated.__all__


def test_packages_ship_their_typed_markers() -> None:
    assert (resources.files("generated") / "py.typed").is_file()
    assert (resources.files("runtime") / "py.typed").is_file()
    assert runtime.__name__ == "runtime"
