"""The one place where upstream exceptions become :mod:`runtime.errors` exceptions.

Usage::

    from runtime.error_mapping import translate_errors, translate_exception

    try:
        response = await query.execute()
    except Exception as exc:
        raise translate_exception(exc, service="database", job_id=job_id) from exc

    # or, equivalently
    with translate_errors(service="database", job_id=job_id):
        response = await query.execute()

Mapping (``retryable`` in brackets; ``*`` marks :class:`ServiceUnavailableError`, always
retryable):

=================================  ==============================================================
upstream                           ours
=================================  ==============================================================
``PipelineError``                  returned unchanged (a missing ``job_id`` is filled in)
httpx ``ConnectError``, timeouts,  ``ServiceUnavailableError`` *
network, proxy and remote protocol
errors
httpx ``HTTPStatusError``          404 ``NotFoundError``; 401/403 ``PermissionDeniedError``;
                                   409 ``ConflictError``; 413 ``PayloadTooLargeError``;
                                   408/429 and 5xx but 501/505 ``ServiceUnavailableError`` *;
                                   other ``ServiceError`` [no]
other httpx errors                 ``ServiceError`` [no] (bad URL, redirects, decoding...)
postgrest ``APIError`` and         by code: SQLSTATE ``23505``/``23503`` ``ConflictError``;
psycopg errors (``sqlstate``)      ``42501``, ``28xxx``, ``PGRST301``-``303`` ``PermissionDenied
                                   Error``; ``PGRST116`` with 0 rows ``NotFoundError``;
                                   ``08xxx``, ``57P01``-``57P03``, ``53300``, ``PGRST000``-``003``
                                   ``ServiceUnavailableError`` *; ``40001``/``40P01`` (serialisation
                                   failure, deadlock) ``DatabaseError`` [yes]; ``VGB01`` (our SQL's
                                   budget check) ``BudgetExceededError`` [no]; ``P0002`` (our
                                   SQL: job or reservation missing) ``NotFoundError``; ``55000``
                                   (e.g. settle after release) and ``VGB02`` (our SQL: a reserve
                                   key whose reservation is settled or released) ``Conflict
                                   Error``; an HTTP status in
                                   the code (non-JSON error body) as for httpx; other
                                   ``DatabaseError`` [no]
psycopg without a known code       ``OperationalError`` (connection lost, pool timeout)
                                   ``ServiceUnavailableError`` *; other ``DatabaseError`` [no]
storage3 ``StorageApiError``       by the status in the body (Storage answers HTTP 400 with the
                                   real status as a string): ``"404"`` ``NotFoundError``;
                                   ``"409"`` ``ConflictError``; ``"413"`` ``PayloadTooLarge
                                   Error``; ``"401"``/``"403"``/``InvalidJWT`` ``PermissionDenied
                                   Error``; ``"429"``/``5xx`` (but 501/505) ``ServiceUnavailable
                                   Error`` *; other ``StorageError`` [no]
other storage3 errors              ``StorageError`` [no]
redis ``ConnectionError``,         ``ServiceUnavailableError`` * (``service="cache"``)
``TimeoutError``, ``BusyLoading
Error``, ``ReadOnlyError``,
``TryAgainError``, cluster down
redis ``AuthenticationError``,     ``PermissionDeniedError`` [no]
``AuthorizationError``,
``NoPermissionError``
redis ``WatchError``               ``ConflictError`` [yes] (optimistic transaction lost a race)
other redis errors                 ``CacheError`` [no]
builtin ``TimeoutError``,          ``ServiceUnavailableError`` *
``ConnectionError``
anything else                      ``PipelineError`` [no]
=================================  ==============================================================

The server's message, code, status, hint and details are kept on the
:class:`~runtime.errors.ServiceError` (``message``, ``upstream_code``, ``status_code``, ``hint``,
``details``); messages are passed through :func:`runtime.logging.redact` so tokens in URLs or
bodies never travel further. The returned error's ``__cause__`` is the upstream exception.
"""

from __future__ import annotations

import builtins
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

if TYPE_CHECKING:  # no backend is imported here: a cache-only install has no psycopg or httpx
    import httpx
    import psycopg
    import redis.exceptions as redis_exc
    from postgrest.exceptions import APIError
    from storage3.exceptions import StorageApiError
    from storage3.utils import StorageException

from runtime.errors import (
    BudgetExceededError,
    CacheError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelineError,
    ServiceError,
    ServiceUnavailableError,
    StorageError,
    ValidationError,
)
from runtime.logging import redact

__all__ = [
    "BUDGET_EXCEEDED_SQLSTATE",
    "INVALID_ARGUMENT_SQLSTATE",
    "translate_errors",
    "translate_exception",
]

BUDGET_EXCEEDED_SQLSTATE: Final = "VGB01"
INVALID_ARGUMENT_SQLSTATE: Final = "22023"
"""invalid_parameter_value: raised by our SQL functions for a bad argument; a ValidationError."""
"""The SQLSTATE our SQL functions raise when a charge would take a job past its budget."""

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


def _class_for_status(status: int, default: type[ServiceError]) -> type[ServiceError]:
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


_SQLSTATE_CLASSES: Final[dict[str, type[ServiceError]]] = {
    "23505": ConflictError,  # unique_violation
    "23503": ConflictError,  # foreign_key_violation
    "23P01": ConflictError,  # exclusion_violation
    "42501": PermissionDeniedError,  # insufficient_privilege
    "P0002": NotFoundError,  # no_data_found: our SQL functions' "job/reservation not found"
    "55000": ConflictError,  # object_not_in_prerequisite_state: e.g. settle after release
    "VGB02": ConflictError,  # our SQL: an idempotency key names a reservation no longer held
    "57P01": ServiceUnavailableError,  # admin_shutdown
    "57P02": ServiceUnavailableError,  # crash_shutdown
    "57P03": ServiceUnavailableError,  # cannot_connect_now
    "53300": ServiceUnavailableError,  # too_many_connections
    "PGRST000": ServiceUnavailableError,  # could not connect to the database
    "PGRST001": ServiceUnavailableError,  # unexpected connection error
    "PGRST002": ServiceUnavailableError,  # could not build the schema cache
    "PGRST003": ServiceUnavailableError,  # timed out waiting for a pool connection
    "PGRST301": PermissionDeniedError,  # JWT invalid
    "PGRST302": PermissionDeniedError,  # anonymous access disabled
    "PGRST303": PermissionDeniedError,  # JWT claims invalid
}
_TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_STORAGE_CODE_CLASSES: Final[dict[str, type[ServiceError]]] = {
    "invalidjwt": PermissionDeniedError,
    "accessdenied": PermissionDeniedError,
    "unauthorized": PermissionDeniedError,
    "nosuchkey": NotFoundError,
    "nosuchbucket": NotFoundError,
    "not_found": NotFoundError,
    "duplicate": ConflictError,
    "keyalreadyexists": ConflictError,
    "resourcealreadyexists": ConflictError,
    "bucketalreadyexists": ConflictError,
    "entitytoolarge": PayloadTooLargeError,
    "payload too large": PayloadTooLargeError,
    "slowdown": ServiceUnavailableError,
    "databasetimeout": ServiceUnavailableError,
    "databaseerror": StorageError,
}
#: redis-py error class names mapped to ServiceUnavailableError (failovers included) and to
#: PermissionDeniedError.
_REDIS_UNAVAILABLE: Final = (
    "ConnectionError",
    "TimeoutError",
    "BusyLoadingError",
    "ReadOnlyError",
    "TryAgainError",
    "ClusterDownError",
)
_REDIS_DENIED: Final = (
    "AuthenticationError",
    "AuthorizationError",
    "NoPermissionError",
    "AuthenticationWrongNumberOfArgsError",
)
_ZERO_ROWS: Final = re.compile(r"\b0 rows\b")
_CODE_SHAPE: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # an identifier, not a sentence


def _instance(exc: BaseException, module: str, *names: str) -> bool:
    """Whether ``exc`` is an instance of one of ``module``'s classes ``names``.

    A library that is not imported cannot have raised anything, so the module is looked up in
    ``sys.modules`` instead of being imported: translating a cache error loads no database or
    HTTP library.
    """
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, tuple(getattr(loaded, n) for n in names))


def _status_int(value: object) -> int | None:
    """Parse an HTTP status given as int or string (Storage sends ``"404"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _build(
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


def _url_without_query(request: httpx.Request | None) -> str:
    if request is None:
        return "?"
    return str(request.url.copy_with(query=None, fragment=None))


def _from_httpx(
    exc: httpx.HTTPError | httpx.InvalidURL, service: str, job_id: UUID | None
) -> ServiceError:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        status = response.status_code
        cls = _class_for_status(status, ServiceError)
        request = exc.request
        retry_after = _status_int(response.headers.get("Retry-After"))
        return _build(
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
    return _build(
        cls,
        f"{type(exc).__name__}: {text}{where}",
        service=service,
        job_id=job_id,
        upstream_code=type(exc).__name__,
    )


def _from_sql_code(
    code: str | None,
    message: str,
    *,
    service: str,
    job_id: UUID | None,
    hint: str | None,
    upstream_details: Any,
    connection_problem: bool,
) -> PipelineError:
    """Map a SQLSTATE / PostgREST code (shared by postgrest and psycopg)."""
    details = {"upstream_details": upstream_details}
    if code == BUDGET_EXCEEDED_SQLSTATE:
        return BudgetExceededError(
            redact(message),
            job_id,
            details={
                k: v
                for k, v in {
                    "upstream_code": code,
                    "hint": hint,
                    "upstream_details": upstream_details,
                }.items()
                if v is not None
            },
        )
    if code == INVALID_ARGUMENT_SQLSTATE:
        # Our SQL functions' "this argument is wrong" (and apply_batch's allow-list refusals):
        # the caller's input, not the database, is at fault; the transaction wrote nothing.
        return ValidationError(
            redact(message),
            job_id,
            details={
                k: v
                for k, v in {
                    "upstream_code": code,
                    "hint": hint,
                    "upstream_details": upstream_details,
                    "service": service,
                }.items()
                if v is not None
            },
        )
    cls: type[ServiceError] = DatabaseError
    retryable: bool | None = None
    status = _status_int(code)
    if code is None:
        cls = ServiceUnavailableError if connection_problem else DatabaseError
    elif code in _SQLSTATE_CLASSES:
        cls = _SQLSTATE_CLASSES[code]
    elif code == "PGRST116":
        # "JSON object requested, multiple (or no) rows returned": only zero rows is "not found".
        text = f"{message} {upstream_details or ''}"
        cls = NotFoundError if _ZERO_ROWS.search(text) or "multiple" not in text else DatabaseError
    elif code.startswith("08"):
        cls = ServiceUnavailableError  # connection exception class
    elif code.startswith("28"):
        cls = PermissionDeniedError  # invalid authorization specification
    elif code in _TRANSIENT_SQLSTATES:
        retryable = True
    elif status is not None and 100 <= status <= 599:
        # postgrest puts the HTTP status in ``code`` when the error body is not PostgREST JSON.
        cls = _class_for_status(status, DatabaseError)
    elif connection_problem:
        cls = ServiceUnavailableError
    return _build(
        cls,
        message,
        service=service,
        job_id=job_id,
        status_code=status if status is not None and 100 <= status <= 599 else None,
        upstream_code=code,
        hint=hint,
        details=details,
        retryable=retryable,
    )


def _from_postgrest(exc: APIError, service: str, job_id: UUID | None) -> PipelineError:
    code = str(exc.code) if exc.code is not None else None
    details = exc.details if isinstance(exc.details, str | int | float | bool | None) else None
    if details is None and exc.details is not None:
        details = str(exc.details)
    return _from_sql_code(
        code,
        exc.message or "PostgREST request failed",
        service=service,
        job_id=job_id,
        hint=exc.hint,
        upstream_details=redact(details) if isinstance(details, str) else details,
        connection_problem=False,
    )


def _from_psycopg(exc: psycopg.Error, service: str, job_id: UUID | None) -> PipelineError:
    import psycopg

    diag = exc.diag
    message = diag.message_primary or str(exc).strip() or type(exc).__name__
    detail = diag.message_detail
    return _from_sql_code(
        exc.sqlstate,
        message,
        service=service,
        job_id=job_id,
        hint=diag.message_hint,
        upstream_details=redact(detail) if detail else None,
        connection_problem=isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError),
    )


def _from_storage(
    exc: StorageApiError | StorageException, service: str, job_id: UUID | None
) -> ServiceError:
    from storage3.exceptions import StorageApiError

    if not isinstance(exc, StorageApiError):
        return _build(
            StorageError,
            str(exc) or type(exc).__name__,
            service=service,
            job_id=job_id,
            upstream_code=None,
        )
    status = _status_int(exc.status)
    code = str(exc.code) if exc.code is not None else None
    cls: type[ServiceError] = StorageError
    if status is not None and _class_for_status(status, StorageError) is not StorageError:
        cls = _class_for_status(status, StorageError)
    elif code is not None and code.lower() in _STORAGE_CODE_CLASSES:
        cls = _STORAGE_CODE_CLASSES[code.lower()]
    return _build(
        cls,
        exc.message,
        service=service,
        job_id=job_id,
        status_code=status,
        upstream_code=code,
    )


def _from_redis(exc: redis_exc.RedisError, service: str, job_id: UUID | None) -> ServiceError:
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    cls: type[ServiceError]
    retryable: bool | None = None
    if _instance(exc, "redis.exceptions", *_REDIS_DENIED):
        cls = PermissionDeniedError
    elif _instance(exc, "redis.exceptions", *_REDIS_UNAVAILABLE):
        cls = ServiceUnavailableError
    elif _instance(exc, "redis.exceptions", "WatchError"):
        cls, retryable = ConflictError, True
    else:
        cls = CacheError
    return _build(
        cls,
        text,
        service=service,
        job_id=job_id,
        upstream_code=type(exc).__name__,
        retryable=retryable,
    )


def _infer_service(exc: BaseException) -> str:
    if _instance(exc, "postgrest.exceptions", "APIError") or _instance(exc, "psycopg", "Error"):
        return "database"
    if _instance(exc, "storage3.utils", "StorageException"):
        return "storage"
    if _instance(exc, "redis.exceptions", "RedisError"):
        return "cache"
    if _instance(exc, "httpx", "HTTPError", "InvalidURL"):
        return "http"
    return "unknown"


def translate_exception(
    exc: Exception, *, service: str | None = None, job_id: UUID | None = None
) -> PipelineError:
    """Return the :class:`PipelineError` that stands for an upstream exception.

    The caller raises it: ``raise translate_exception(exc, service="database") from exc``
    (``__cause__`` is also set here, so the chain survives a bare ``raise``).

    Args:
        exc: The exception caught from httpx, postgrest, storage3, redis, psycopg or anywhere.
        service: Which service was being called (``"database"``, ``"storage"``, ``"cache"``,
            ``"http"``); ``None`` infers it from the exception's library.
        job_id: The job the operation belonged to, when known.

    Returns:
        Our error, with ``retryable`` decided and the server's message, code, status, hint and
        details kept. A :class:`PipelineError` is returned as it is (its ``job_id`` is filled in
        when it had none).

    Raises:
        TypeError: ``exc`` is not an ``Exception`` (``CancelledError``, ``KeyboardInterrupt``
            and the like must propagate, not be translated).
    """
    if not isinstance(exc, Exception):
        raise TypeError(f"only Exception instances can be translated, got {type(exc).__name__}")
    if isinstance(exc, PipelineError):
        if exc.job_id is None and job_id is not None:
            exc.job_id = job_id
        return exc
    name = service or _infer_service(exc)
    result: PipelineError
    if _instance(exc, "postgrest.exceptions", "APIError"):
        result = _from_postgrest(exc, name, job_id)  # type: ignore[arg-type]
    elif _instance(exc, "psycopg", "Error"):
        result = _from_psycopg(exc, name, job_id)  # type: ignore[arg-type]
    elif _instance(exc, "storage3.utils", "StorageException"):
        result = _from_storage(exc, name, job_id)  # type: ignore[arg-type]
    elif _instance(exc, "redis.exceptions", "RedisError"):
        result = _from_redis(exc, name, job_id)  # type: ignore[arg-type]
    elif _instance(exc, "httpx", "HTTPError", "InvalidURL"):
        result = _from_httpx(exc, name, job_id)  # type: ignore[arg-type]
    elif isinstance(exc, builtins.TimeoutError | builtins.ConnectionError):
        result = _build(
            ServiceUnavailableError,
            f"{type(exc).__name__}: {exc}".rstrip(": "),
            service=name,
            job_id=job_id,
            upstream_code=type(exc).__name__,
        )
    else:
        result = PipelineError(
            redact(f"{name}: unexpected {type(exc).__name__}: {exc}".rstrip(": ")),
            job_id,
            details={"upstream_type": f"{type(exc).__module__}.{type(exc).__qualname__}"},
        )
    result.__cause__ = exc
    return result


@contextmanager
def translate_errors(*, service: str | None = None, job_id: UUID | None = None) -> Iterator[None]:
    """Translate any ``Exception`` raised inside the block with :func:`translate_exception`.

    Works around ``await`` too (a plain ``with`` inside an ``async def``).

    Args:
        service: As for :func:`translate_exception`.
        job_id: As for :func:`translate_exception`.

    Yields:
        Nothing.

    Raises:
        PipelineError: The translated error, chained ``from`` the original.
    """
    try:
        yield
    except PipelineError as exc:
        if exc.job_id is None and job_id is not None:
            exc.job_id = job_id
        raise
    except Exception as exc:
        raise translate_exception(exc, service=service, job_id=job_id) from exc
