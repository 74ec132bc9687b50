"""Redis URL parsing the settings and the cache share: standard library only.

The settings check a cluster or Sentinel URL when they are read, which must work in an install
without the ``[cache]`` extra; the cache builds its client from the same parse.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

from runtime.errors import ConfigError

__all__ = ["SCHEMES", "parse_nodes"]

SCHEMES: Final = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+cluster://",
    "rediss+cluster://",
    "redis+sentinel://",
    "rediss+sentinel://",
)
"""The URL schemes :func:`connect` understands."""


def parse_nodes(url: str) -> tuple[str | None, str | None, list[tuple[str, int]], str]:
    """Split ``scheme://[user:password@]host:port[,host:port...]/path`` into its parts.

    Args:
        url: A cluster or Sentinel URL.

    Returns:
        ``(username, password, [(host, port), ...], path)``; the path without its leading ``/``.

    Raises:
        ConfigError: No node, or a node without a valid port.
    """
    rest = url.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    credentials, _, hosts = netloc.rpartition("@")
    username = password = None
    if credentials:
        user, _, secret = credentials.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    nodes: list[tuple[str, int]] = []
    for node in filter(None, hosts.split(",")):
        host, _, port = node.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"Redis node {node!r} must be host:port")
        nodes.append((host.strip("[]"), int(port)))
    if not nodes:
        raise ConfigError("a cluster or Sentinel Redis URL must name at least one host:port")
    return username, password, nodes, path
