"""The error plumbing every HTTP-speaking client shares; it knows no backend library.

:func:`class_for_status` is the one HTTP status rule (httpx, PostgREST, Storage, TUS),
:func:`build` makes one of our :class:`~runtime.errors.ServiceError` with the message redacted,
and :func:`from_httpx` translates an httpx error. Each backend's own translator
(``runtime.db._errors``, ``runtime.storage._errors``, ``runtime.cache._errors``) builds on these;
:mod:`runtime.error_mapping` picks the translator by the exception's library.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

if TYPE_CHECKING:
    import httpx

from runtime.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServiceError,
    ServiceUnavailableError,
)
from runtime.logging import redact

__all__ = ["build", "class_for_status", "from_httpx", "status_int"]

_MAX_BODY_CHARS: Final = 500

_HTTP_STATUS_CLASSES: Final[dict[int, type[ServiceError]]] = {
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServiceUnavailableError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: ServiceUnavailableError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
}
_NOT_TRANSIENT_5XX: Final = frozenset({501, 505})  # not implemented, HTTP version: permanent
_CODE_SHAPE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # an identifier, not a sentence


def class_for_status(status: int, default: type[ServiceError]) -> type[ServiceError]:
    """The one HTTP status rule every client shares (httpx, PostgREST, Storage, TUS).

    A server fault (5xx other than 501/505), a timeout (408) or throttling (429) is transient
    and retryable; 401/403/404/409/413 have their own classes; anything else is ``default``.
    """
    known = _HTTP_STATUS_CLASSES.get(status)
    if known is not None:
        return known
    if 500 <= status <= 599 and status not in _NOT_TRANSIENT_5XX:
        return ServiceUnavailableError
    return default


def status_int(value: object) -> int | None:
    """Parse an HTTP status given as int or string (Storage sends ``"404"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def build(
    cls: type[ServiceError],
    message: str,
    *,
    service: str,
    job_id: UUID | None,
    status_code: int | None = None,
    upstream_code: str | None = None,
    hint: str | None = None,
    details: dict[str, Any] | None = None,
    retryable: bool | None = None,
) -> ServiceError:
    return cls(
        redact(message),
        job_id,
        retryable=retryable,
        details={k: v for k, v in (details or {}).items() if v is not None},
        service=service,
        status_code=status_code,
        upstream_code=upstream_code,
        hint=redact(hint) if hint else hint,
    )


def _body_excerpt(response: httpx.Response) -> str | None:
    import httpx

    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    return redact(text[:_MAX_BODY_CHARS]) if text else None


def _upstream_code_from_body(response: httpx.Response) -> str | None:
    import httpx

    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    if isinstance(body, dict):
        for key in ("code", "error_code", "error"):
            value = body.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                text = str(value)
                if _CODE_SHAPE.fullmatch(text) and redact(text) == text:
                    return text
    return None


def _url_without_query(request: httpx.Request) -> str:
    return str(request.url.copy_with(query=None, fragment=None))


def from_httpx(
    exc: httpx.HTTPError | httpx.InvalidURL, service: str, job_id: UUID | None
) -> ServiceError:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        status = response.status_code
        cls = class_for_status(status, ServiceError)
        request = exc.request
        retry_after = status_int(response.headers.get("Retry-After"))
        return build(
            cls,
            f"HTTP {status} {response.reason_phrase} from {request.method} "
            f"{_url_without_query(request)}",
            service=service,
            job_id=job_id,
            status_code=status,
            upstream_code=_upstream_code_from_body(response),
            details={"body": _body_excerpt(response), "retry_after_seconds": retry_after},
        )
    transient = (
        httpx.TimeoutException,
        httpx.NetworkError,
        httpx.RemoteProtocolError,
        httpx.ProxyError,
    )
    cls = ServiceUnavailableError if isinstance(exc, transient) else ServiceError
    try:
        where = f" ({exc.request.method} {_url_without_query(exc.request)})"  # type: ignore[union-attr]
    except (AttributeError, RuntimeError):
        where = ""
    text = str(exc) or type(exc).__name__
    return build(
        cls,
        f"{type(exc).__name__}: {text}{where}",
        service=service,
        job_id=job_id,
        upstream_code=type(exc).__name__,
    )
