"""The import guard of the client modules (a base install is tested in tests/consumers)."""

from __future__ import annotations

import pytest

from runtime import _extras


def test_an_installed_extra_passes() -> None:
    assert _extras.installed("cache")
    _extras.require("cache", "here")


def test_a_missing_module_names_the_extra_and_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(_extras.EXTRAS, "cache", ("redis", "no_such_module_xyz"))
    _extras._absent.cache_clear()
    try:
        assert not _extras.installed("cache")
        with pytest.raises(ImportError, match=r"\[cache\] extra") as raised:
            _extras.require("cache", "runtime.cache")
        assert "pip install 'videogen-shared[cache]'" in str(raised.value)
        assert "missing: no_such_module_xyz" in str(raised.value)
        assert raised.value.name == "no_such_module_xyz"
    finally:
        _extras._absent.cache_clear()


def test_an_unknown_extra_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        _extras.installed("gpu")
