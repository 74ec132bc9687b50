"""The ``runtime`` package itself: a lazy ``__version__`` and nothing imported eagerly."""

from __future__ import annotations

import pytest

import runtime


def test_version_is_read_on_first_access() -> None:
    assert isinstance(runtime.__version__, str)
    assert runtime.__version__


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = runtime.no_such_name  # type: ignore[attr-defined]


def test_the_version_is_computed_on_access_not_at_import() -> None:
    assert "__version__" not in vars(runtime)  # served by the module __getattr__
