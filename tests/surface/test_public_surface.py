"""The public surface: every package and module declares ``__all__``, every name in it exists,
and importing anything opens no connection and reads no configuration."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import textwrap

import pytest

import generated
import runtime

RUNTIME_MODULES = sorted(
    f"runtime.{info.name}"
    for info in pkgutil.iter_modules(runtime.__path__)
    if not info.name.startswith("_")
)
GENERATED_MODULES = sorted(
    f"generated.{info.name}" for info in pkgutil.iter_modules(generated.__path__)
)


@pytest.mark.parametrize(
    "module_name", ["generated", "runtime", *RUNTIME_MODULES, *GENERATED_MODULES]
)
def test_module_declares_all_and_every_name_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{module_name} has no __all__ list"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    assert len(set(exported)) == len(exported)


def test_generated_exports_every_contract_model() -> None:
    from pydantic import BaseModel

    models = {
        name
        for module_name in GENERATED_MODULES
        for name, value in vars(importlib.import_module(module_name)).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module_name
    }
    assert models
    assert models <= set(generated.__all__)


def test_importing_every_module_opens_no_connection_and_reads_no_config() -> None:
    script = textwrap.dedent(
        f"""
        import socket, importlib
        attempts = []
        def refuse(self, address, *args, **kwargs):
            attempts.append(address)
            raise OSError("connection attempted at import time")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        for name in {RUNTIME_MODULES + GENERATED_MODULES!r}:
            importlib.import_module(name)
        import runtime.config
        assert not attempts, attempts
        print("imported", len({RUNTIME_MODULES + GENERATED_MODULES!r}))
        """
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUPABASE_", "REDIS_", "OPENAI_", "REPLICATE_", "JWT_", "DATABASE_"))
    }
    env["PYTHONWARNINGS"] = "error"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported")
