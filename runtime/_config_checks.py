"""The single-value checks behind :class:`runtime.config.Settings`: URLs, keys, placeholders.

Each check takes the stripped text and whether the environment is production, and raises
``ValueError`` with a message that describes the problem and never quotes the value (pydantic
turns it into one line of the :class:`~runtime.errors.ConfigError`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from runtime.errors import ConfigError

__all__ = [
    "check_database_url",
    "check_not_placeholder",
    "check_redis_url",
    "check_supabase_key",
    "check_supabase_url",
    "mask_url_password",
]

_PLACEHOLDER_MARKERS: Final = (
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "xxxx",
)
_REDIS_TOPOLOGIES: Final = ("redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel")
_LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def mask_url_password(url: str) -> str:
    """Return ``url`` with its password, if any, replaced by asterisks."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":**********@", 1)
    return parts._replace(netloc=netloc).geturl()


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """Return the claims of a JWT-shaped token (signature not checked), or ``None``."""
    parts = token.split(".")
    if len(parts) != 3 or not token.startswith("eyJ"):
        return None
    header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    if not isinstance(header, dict) or "alg" not in header or not isinstance(claims, dict):
        return None
    return claims


def check_supabase_key(value: str, *, role: str, new_prefix: str, production: bool) -> None:
    """Accept a new-style key with ``new_prefix``, or a JWT whose ``role`` claim is ``role``."""
    if value.startswith(new_prefix):
        if len(value) <= len(new_prefix) + 8:
            raise ValueError(f"the {new_prefix} key is too short")
        return
    if value.startswith(("sb_secret_", "sb_publishable_")):
        raise ValueError(f"this is the wrong kind of key: expected {new_prefix}... here")
    claims = _jwt_claims(value)
    if claims is None:
        raise ValueError(f"not a JWT (three base64url parts, eyJ...) nor a {new_prefix} key")
    found = claims.get("role")
    if found is None and production:
        raise ValueError(f"this JWT has no role claim; production needs role {role!r}")
    if found is not None and found != role:
        raise ValueError(f"this JWT has role {found!r}; expected role {role!r}")


def check_not_placeholder(value: str, *, production: bool) -> None:
    """Refuse, in production, a secret that looks like a placeholder."""
    if production and any(m in value.lower() for m in _PLACEHOLDER_MARKERS):
        raise ValueError("looks like a placeholder, which production does not accept")


def _is_internal_host(host: str) -> bool:
    if host in _LOOPBACK_HOSTS or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback


def check_supabase_url(value: str, *, production: bool) -> str:
    """Accept the bare ``https://`` project URL (``http://`` for localhost outside production)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an https:// URL with a host")
    if parts.scheme == "http" and (production or parts.hostname not in _LOOPBACK_HOSTS):
        raise ValueError(
            "must use https:// (http:// is only accepted for localhost outside production)"
        )
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ValueError("must be the bare project URL, without a path or query")
    return value.rstrip("/")


def check_redis_url(value: str, *, production: bool) -> str:
    """Accept a Redis URL (single node, cluster or Sentinel); production needs TLS off-network."""
    scheme = value.partition("://")[0]
    if scheme not in ("redis", "rediss", *_REDIS_TOPOLOGIES):
        raise ValueError("must start with redis:// or rediss:// (or +cluster/+sentinel)")
    if scheme in ("redis", "rediss"):
        parts = urlsplit(value)
        try:
            hosts = [parts.hostname or ""]
            _ = parts.port
        except ValueError:
            raise ValueError("has an invalid port") from None
    else:  # every node of a cluster or Sentinel URL is checked, not only the first
        from runtime._redis_urls import parse_nodes

        try:
            _user, _password, nodes, path = parse_nodes(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        service, _, db = path.partition("/")
        if scheme.endswith("+sentinel") and (not service or (db and not db.isdigit())):
            raise ValueError("a Sentinel URL ends with /<service name>[/<database number>]")
        hosts = [host for host, _port in nodes]
    if not all(hosts):
        raise ValueError("must name a host")
    plain = not scheme.startswith("rediss")
    if production and plain and not all(_is_internal_host(h) for h in hosts):
        raise ValueError(
            "must use TLS (rediss://) in production for a host outside the private network"
        )
    return value


def check_database_url(value: str, *, production: bool) -> None:
    """Accept a ``postgresql://`` URL with a host; production must not disable TLS."""
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise ValueError("must be a postgresql:// URL with a host")
    sslmode = parse_qs(parts.query).get("sslmode", [""])[-1]
    if production and sslmode == "disable":
        raise ValueError("must not disable TLS (sslmode=disable) in production")
