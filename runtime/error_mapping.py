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
import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from uuid import UUID

from runtime._errors_http import build
from runtime.errors import PipelineError, ServiceUnavailableError
from runtime.logging import redact

if TYPE_CHECKING:
    from runtime.db._errors import BUDGET_EXCEEDED_SQLSTATE, INVALID_ARGUMENT_SQLSTATE

__all__ = [
    "BUDGET_EXCEEDED_SQLSTATE",
    "INVALID_ARGUMENT_SQLSTATE",
    "translate_errors",
    "translate_exception",
]

_Translator = Callable[[Exception, str, UUID | None], PipelineError]


class _Backend(NamedTuple):
    """Which library's exceptions a translator handles, for which service, and where it lives."""

    library: str
    classes: tuple[str, ...]
    service: str
    translator: str  # "module:function", imported on first use


#: Each backend's translator sits next to its client; this table only names them, so translating
#: a cache error imports no database or HTTP library. Checked in order: the first match wins.
_BACKENDS: Final = (
    _Backend(
        "postgrest.exceptions", ("APIError",), "database", "runtime.db._errors:from_postgrest"
    ),
    _Backend("psycopg", ("Error",), "database", "runtime.db._errors:from_psycopg"),
    _Backend(
        "storage3.utils", ("StorageException",), "storage", "runtime.storage._errors:from_storage"
    ),
    _Backend("redis.exceptions", ("RedisError",), "cache", "runtime.cache._errors:from_redis"),
    _Backend("httpx", ("HTTPError", "InvalidURL"), "http", "runtime._errors_http:from_httpx"),
)


def __getattr__(name: str) -> Any:
    """Return a SQLSTATE constant from the database's translator, loaded on first use.

    1.0 exported them here; importing this module loads no backend's translator.
    """
    if name in ("BUDGET_EXCEEDED_SQLSTATE", "INVALID_ARGUMENT_SQLSTATE"):
        return getattr(importlib.import_module("runtime.db._errors"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _backend_of(exc: BaseException) -> _Backend | None:
    """The backend whose library raised ``exc``.

    A library that is not imported cannot have raised anything, so it is looked up in
    ``sys.modules`` instead of being imported.
    """
    for backend in _BACKENDS:
        loaded = sys.modules.get(backend.library)
        if loaded is not None and isinstance(
            exc, tuple(getattr(loaded, name) for name in backend.classes)
        ):
            return backend
    return None


def _translator(backend: _Backend) -> _Translator:
    module, _, function = backend.translator.partition(":")
    translator: _Translator = getattr(importlib.import_module(module), function)
    return translator


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
    backend = _backend_of(exc)
    name = service or (backend.service if backend is not None else "unknown")
    result: PipelineError
    if backend is not None:
        result = _translator(backend)(exc, name, job_id)
    elif isinstance(exc, builtins.TimeoutError | builtins.ConnectionError):
        result = build(
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
