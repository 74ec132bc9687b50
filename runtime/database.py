"""Moved to :mod:`runtime.db` (interim re-export)."""

from runtime.db._postgrest import *  # noqa: F403
from runtime.db._postgrest import __all__, _options_from_settings  # noqa: F401
