"""Supabase Storage (moving into this package; the client is in :mod:`runtime.storage._client`)."""

from runtime.storage._client import *  # noqa: F403
from runtime.storage._client import __all__ as __all__
