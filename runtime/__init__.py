"""videogen-shared runtime: config, clients, errors, retry, cost tracking, logging, validation.

Import the piece you need from its own module, for example ``from runtime.database import db`` or
``from runtime.errors import PipelineError``. Importing this package opens no connection, reads
no configuration and imports nothing: ``__version__`` is read from the installed metadata on
first access.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("videogen-shared")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"
