"""Kept for imports written against 1.0: the TUS client now lives in :mod:`runtime.storage._tus`."""

from runtime.storage._tus import *  # noqa: F403
from runtime.storage._tus import __all__ as __all__
