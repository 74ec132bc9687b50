"""videogen-shared runtime: config, clients, errors, retry, cost tracking, logging, validation.

Import the piece you need from its own module, for example ``from runtime.database import db`` or
``from runtime.errors import PipelineError``. Importing this package opens no connection and reads
no configuration.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("videogen-shared")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
