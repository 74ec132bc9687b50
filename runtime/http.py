"""Deprecated location of :mod:`runtime._http` (plumbing, not API); removed after the merge."""

from runtime._http import DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT_SECONDS, new_http_client

__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_TIMEOUT_SECONDS", "new_http_client"]
