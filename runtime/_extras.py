"""Import guards for the optional clients: which extra provides which third-party modules.

The base install is the contracts and the dependency-light core; each client needs an extra
(``pip install 'videogen-shared[db]'``). A client module starts with::

    from runtime import _extras

    if not _extras.installed("db"):
        raise _extras.missing("db", __name__)

so that importing it without its extra raises an :class:`ImportError` naming the extra to install,
instead of a bare ``No module named 'psycopg'``. Keep :data:`EXTRAS` in step with
``[project.optional-dependencies]`` in ``pyproject.toml`` (``tests/consumers`` checks both in a
fresh base install).
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from typing import Final

__all__ = ["EXTRAS", "installed", "missing", "require"]

#: Extra -> the top-level modules it installs that the client modules import.
EXTRAS: Final[dict[str, tuple[str, ...]]] = {
    "db": ("httpx", "supabase", "postgrest", "psycopg", "psycopg_pool"),
    "cache": ("redis",),
    "storage": ("httpx", "supabase", "storage3"),
}


@cache
def _absent(extra: str) -> tuple[str, ...]:
    return tuple(module for module in EXTRAS[extra] if find_spec(module) is None)


def installed(extra: str) -> bool:
    """Return True when every module of ``extra`` can be imported.

    Raises:
        KeyError: ``extra`` is not one of :data:`EXTRAS`.
    """
    return not _absent(extra)


def missing(extra: str, needed_by: str) -> ImportError:
    """Build the error raised when ``needed_by`` is imported without ``extra``.

    Args:
        extra: The extra that provides the missing modules (``"db"``).
        needed_by: What needs them (a module name, or a function).

    Returns:
        An :class:`ImportError` whose message names the extra and the pip command.
    """
    absent = _absent(extra) or EXTRAS[extra]
    return ImportError(
        f"{needed_by} needs the [{extra}] extra of videogen-shared (missing: "
        f"{', '.join(absent)}): pip install 'videogen-shared[{extra}]'",
        name=absent[0],
    )


def require(extra: str, needed_by: str) -> None:
    """Raise the :func:`missing` error unless ``extra`` is installed (for use inside a function).

    Raises:
        ImportError: A module of ``extra`` is not installed.
    """
    if not installed(extra):
        raise missing(extra, needed_by)
