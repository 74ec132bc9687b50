"""The installed package ships its data: bundles and SQL resolve inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import generated
import runtime
from runtime.contracts import contract_definitions
from runtime.resources import (
    bundle_dir,
    bundle_index,
    load_bundle,
    load_schema,
    sql_dir,
    sql_scripts,
)

AREAS = ["audio", "common", "job", "scene", "video"]


def _installed_from_wheel() -> bool:
    return not (Path(str(resources.files("generated"))).parent / "pyproject.toml").exists()


@pytest.fixture
def wheel_install() -> None:
    if not _installed_from_wheel():
        pytest.skip(
            "source/editable install: bundles and SQL are read from the repository; "
            "this check runs against the built wheel (nox -s tests)"
        )


@pytest.mark.usefixtures("wheel_install")
def test_bundle_dir_is_inside_the_installed_generated_package() -> None:
    package = Path(str(resources.files("generated"))).resolve()
    assert Path(str(bundle_dir())).resolve() == package / "bundles"


@pytest.mark.usefixtures("wheel_install")
def test_the_wheel_does_not_ship_the_source_schemas() -> None:
    with pytest.raises(FileNotFoundError, match="bundles"):
        load_schema("job")


@pytest.mark.usefixtures("wheel_install")
def test_sql_dir_is_inside_the_installed_runtime_package() -> None:
    package = Path(str(resources.files("runtime"))).resolve()
    assert Path(str(sql_dir())).resolve() == package / "sql"


def test_every_contract_ships_a_bundle_with_its_versioned_id() -> None:
    contracts = bundle_index()["contracts"]
    assert {entry["area"] for entry in contracts.values()} == set(AREAS) - {"common"}
    for name, entry in contracts.items():
        bundle = load_bundle(name)
        assert bundle["$ref"] == f"#/$defs/{name}"
        assert entry["id"] == f"https://schemas.videogen.dev/{entry['area']}/{entry['version']}"


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
