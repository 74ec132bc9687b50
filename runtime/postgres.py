"""Moved to :mod:`runtime.db` (interim re-export)."""

from runtime.db._postgres import *  # noqa: F403
from runtime.db._postgres import __all__, _options_from_settings  # noqa: F401
