"""The Supabase database client: PostgREST's query builder with our retries, errors and batches.

Usage::

    from runtime.database import db

    result = await db.table("jobs").select("*").eq("id", str(job_id)).execute()
    await db.table("jobs").insert({"id": job_id, "user_id": user_id, "status": "queued",
                                   "audio_url": audio_url, "user_prompt": prompt}).execute()

    summary = await db.call_function("job_cost_summary", {"p_job_id": job_id})  # an RPC

    async with db.transaction() as tx:          # all or nothing, in one round trip
        await tx.table("jobs").insert({...}).execute()
        await tx.table("job_stages").insert({...}).execute()

    is_healthy = await db.health_check()        # a bool within a short timeout; never raises

``db`` is lazy: importing this module opens no connection and reads no configuration. The first
use reads :mod:`runtime.config` (``SUPABASE_URL``, ``SUPABASE_SERVICE_KEY``,
``DB_POOL_MAX_CONNECTIONS``, ``HTTP_TIMEOUT_SECONDS``) and builds supabase-py's ``AsyncClient``
around one :func:`runtime.http.new_http_client` (at most 10 connections, explicit timeouts), which
:meth:`Database.aclose` closes. Workers call ``await db.aclose()`` before their event loop ends;
the module-level ``db`` rebuilds itself on next use, in the then-running loop.

What this adds to supabase-py:

* **Errors become ours.** ``execute()`` raises :mod:`runtime.errors` exceptions made by
  :func:`runtime.error_mapping.translate_exception` (PostgREST's code, message, hint and details
  kept; the HTTP status filled in), chained from the original.
* **Retries where repeating is safe.** Up to 3 attempts with exponential backoff
  (:func:`runtime.retry.retry_with_backoff`) for transient failures only: connection errors,
  timeouts, HTTP 502/503/504, PostgREST's ``PGRST000``-``PGRST003`` (it could not reach the
  database) and serialisation failures or deadlocks (``40001``, ``40P01``: the transaction rolled
  back). A failure is retried only if repeating it cannot apply a write twice: reads (``GET``,
  ``HEAD``), RPCs marked ``idempotent=True``, and any request that never reached the database
  (connect errors, pool timeouts, ``PGRST000``-``PGRST003``). Other errors have
  ``retryable=False``. supabase-py's own retry loop is switched off so this policy is the only one.
* **Atomic batches.** :meth:`Database.transaction` queues writes and applies them through the SQL
  function ``apply_batch`` (``sql/handwritten/020_batch.sql``) in one database transaction.
  Nothing is sent if the block raises. Writes made with ``db.table(...)`` inside the block would not
  be part of it, so they raise :class:`~runtime.errors.ValidationError`.
* **One calling convention for SQL functions.** :class:`FunctionCaller` (``call_function``) is
  implemented here over PostgREST and in :mod:`runtime.postgres` over a direct connection, with the
  same names, arguments (:func:`to_json_value`) and results (JSON), so :mod:`runtime.cost_tracking`
  and transactions work over either.
* **Money stays exact.** PostgREST sends ``numeric`` columns (``total_cost``, ``cost``...) as
  JSON numbers (``0.060000``), which plain JSON decoding turns into ``float``. Every successful
  response body that goes through ``execute()`` is decoded with :func:`loads_exact` instead:
  numbers with a fraction or exponent, and whole numbers under a money key, become
  :class:`~decimal.Decimal` (other integers stay ``int``), so ``Job.model_validate(row)`` and the
  other generated models accept rows exactly. On the way in,
  :func:`to_json_value` refuses a ``float`` for a money field (:data:`MONEY_FIELDS`).
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

import asyncio
import enum
import json
import math
import re
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from time import monotonic as _monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, Self, TypeVar
from uuid import UUID

import httpx
from postgrest import APIResponse, AsyncRequestBuilder
from postgrest.exceptions import APIError
from postgrest.types import CountMethod
from pydantic import BaseModel, SecretStr

from runtime.error_mapping import translate_exception
from runtime.errors import (
    ConfigError,
    DatabaseError,
    PipelineError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.http import new_http_client
from runtime.lifecycle import LazyClient, check_bound, run_health_check
from runtime.logging import get_logger
from runtime.retry import backoff_delay, is_retryable, retry_with_backoff

if TYPE_CHECKING:
    from supabase import AsyncClient

__all__ = [
    "MAX_BATCH_OPERATIONS",
    "MAX_CONNECTIONS",
    "MONEY_FIELDS",
    "Database",
    "DatabaseOptions",
    "FunctionCaller",
    "PendingWrite",
    "Query",
    "TableWriter",
    "Transaction",
    "check_identifier",
    "db",
    "get_database",
    "loads_exact",
    "repeat_is_safe",
    "to_json_value",
]

MAX_BATCH_OPERATIONS: Final = 1000
"""Most operations one transaction may hold (the SQL function enforces the same bound)."""

MAX_CONNECTIONS: Final = 10
"""The most connections either database path may open (PRD: "max 10 connections"); the upper
bound of ``max_connections`` here, in :mod:`runtime.postgres` and of ``DB_POOL_MAX_CONNECTIONS``."""

#: The cost functions' money arguments (written by hand with the functions in sql/handwritten/).
_MONEY_ARGUMENTS: Final = frozenset({"p_cost", "p_amount", "p_limit", "p_actual_cost"})


def _money_fields() -> frozenset[str]:
    """Every property the contracts type as ``Money``, and the cost functions' money arguments.

    Read from the generated models, so from the schemas' ``x-python-type``: nothing to keep by
    hand when a money column is added or renamed.
    """
    import generated
    from generated import _types

    def is_money(field: Any) -> bool:
        stack: list[Any] = [*field.metadata, field.annotation]
        while stack:
            item = stack.pop()
            if getattr(item, "func", None) is _types._validate_money:
                return True
            stack.extend(getattr(item, "__metadata__", ()))
            stack.extend(typing.get_args(item))
        return False

    names: set[str] = set()
    for name in generated.__all__:
        model = getattr(generated, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(f for f, info in model.model_fields.items() if is_money(info))
    return frozenset(names) | _MONEY_ARGUMENTS


MONEY_FIELDS: Final = _money_fields()
"""Keys whose values are money: :func:`to_json_value` refuses a ``float`` for them."""


def _money_ints_as_decimal(obj: dict[str, Any]) -> dict[str, Any]:
    for key, value in obj.items():
        if type(value) is int and key in MONEY_FIELDS:  # not bool: type() is exact
            obj[key] = Decimal(value)
    return obj


def loads_exact(data: str | bytes) -> Any:
    """``json.loads`` that reads money exactly.

    Numbers with a fraction or exponent become :class:`~decimal.Decimal` (``0.060000``), and so
    does a whole number under a money key (:data:`MONEY_FIELDS`: a ``numeric`` column holding
    ``20`` is sent as ``20``); other integers stay ``int``. Used for PostgREST response bodies and,
    in :mod:`runtime.postgres`, for json/jsonb results, so money read through either path is
    exact and validates into the generated models.

    Args:
        data: JSON text.

    Returns:
        The decoded value.

    Raises:
        ValueError: Not JSON.
    """
    return json.loads(data, parse_float=Decimal, object_hook=_money_ints_as_decimal)


_logger = get_logger("runtime.database")

_READ_METHODS: Final = frozenset({"GET", "HEAD"})
_WRITE_METHODS: Final = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_VALUE_METHODS: Final = frozenset({"insert", "upsert", "update"})
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# PostgREST could not get a database connection: the request never ran.
_NOT_EXECUTED_CODES: Final = frozenset({"PGRST000", "PGRST001", "PGRST002", "PGRST003"})
# The transaction was rolled back by the server: repeating it cannot apply anything twice.
_ROLLED_BACK_CODES: Final = frozenset({"40001", "40P01"})
_GATEWAY_STATUSES: Final = frozenset({502, 503, 504})
_GATEWAY_CODES: Final = frozenset({"502", "503", "504"})
_DEFAULT_HEALTH_TIMEOUT_SECONDS: Final = 2.0


# -- JSON values -----------------------------------------------------------------------------


_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def check_identifier(value: object, what: str) -> str:
    """Return ``value`` if it is a plain SQL identifier, else raise ``ValidationError``.

    Args:
        value: A function or parameter name.
        what: What it names, for the message.

    Returns:
        The name.

    Raises:
        ValidationError: Not a string of ASCII letters, digits and ``_`` starting with a letter
            or ``_``, at most 63 characters (PostgreSQL's limit).
    """
    if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
        raise ValidationError(
            f"{what} must be an identifier (letters, digits, _; at most 63), got {value!r}"
        )
    return value


def _text(value: str) -> str:
    """Return ``value`` if PostgreSQL can store it (no NUL, valid UTF-8), else raise."""
    if "\x00" in value:
        raise ValidationError("cannot send text holding a NUL character to the database")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"cannot send text holding a lone surrogate ({exc.object[exc.start]!r}) to the "
                "database: not valid Unicode"
            ) from None
    return value


def to_json_value(value: Any) -> Any:
    """Convert a Python value into the JSON value sent to the database.

    Both database paths send arguments this way, so a SQL function sees the same input whether
    it is called over PostgREST or over a direct connection.

    Args:
        value: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``Decimal`` (sent as its
            exact decimal string), ``UUID`` (its canonical string), ``datetime``/``date``/``time``
            (ISO 8601), an ``Enum`` (its value), a Pydantic model (its JSON dump), or a mapping
            with string keys or a list/tuple of these. A mapping's money fields
            (:data:`MONEY_FIELDS`: ``total_cost``, ``cost``, ``p_amount``...) take ``Decimal``,
            ``int`` or a decimal string, never a ``float``.

    Returns:
        A value made of ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    Raises:
        ValidationError: The value (or something inside it) cannot be sent exactly: NaN or
            infinity, a float for a money field, a non-string mapping key, text holding NUL or a
            lone surrogate, an unsupported type, or nesting too deep (or cyclic) to send.
    """
    try:
        return _convert(value)
    except RecursionError:
        raise ValidationError(
            "cannot send this value to the database: it is nested too deeply (or cyclic)"
        ) from None


def _convert(value: Any) -> Any:

    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"cannot send {value!r} to the database: not a finite number")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"cannot send Decimal({value}) to the database: not finite")
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _convert(value.value)
    if isinstance(value, BaseModel):
        return _convert(value.model_dump(mode="json"))  # its text is checked too
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"cannot send a mapping with a {type(key).__name__} key to the database; "
                    "keys must be strings"
                )
            _text(key)
            if isinstance(item, float) and key in MONEY_FIELDS:
                raise ValidationError(
                    f"{key} is money and must be exact: send Decimal({str(item)!r}) (or a "
                    f"decimal string), not the float {item!r}"
                )
            result[key] = _convert(item)
        return result
    if isinstance(value, list | tuple):
        return [_convert(item) for item in value]
    raise ValidationError(f"cannot send a {type(value).__name__} to the database as JSON")


# -- the calling convention shared with runtime.postgres --------------------------------------


class FunctionCaller(Protocol):
    """Something that calls our SQL functions: :class:`Database` or ``PostgresDatabase``."""

    async def call_function(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> Any:
        """Call ``public.<name>`` with named arguments and return its result as JSON.

        Args:
            name: The function's name in schema ``public``.
            params: Named arguments (``{"p_job_id": ...}``), converted by :func:`to_json_value`.
            idempotent: Whether calling twice has the effect of calling once (allows retries).
            job_id: The job the call belongs to, for errors and logs.

        Returns:
            The function's result, decoded from JSON.
        """
        ...  # pragma: no cover - protocol


def repeat_is_safe(exc: BaseException, *, status: int | None, idempotent: bool) -> bool:
    """Decide whether a failed PostgREST request may be sent again.

    Args:
        exc: What the attempt raised (an httpx error or a postgrest ``APIError``).
        status: The HTTP status of the response, when there was one.
        idempotent: Whether the request has the same effect when applied twice.

    Returns:
        ``True`` for a transient failure that cannot cause a double write: one that never reached
        the database, or that the database rolled back, or any transient failure of an idempotent
        request; ``False`` otherwise.
    """
    if isinstance(exc, _NEVER_SENT):
        return True
    if isinstance(exc, httpx.TransportError):
        return idempotent
    if isinstance(exc, APIError):
        code = str(exc.code) if exc.code is not None else None
        if code in _NOT_EXECUTED_CODES or code in _ROLLED_BACK_CODES:
            return True
        if status in _GATEWAY_STATUSES or code in _GATEWAY_CODES:
            return idempotent
    return False


# -- retries ---------------------------------------------------------------------------------

_T = TypeVar("_T")


async def _with_retries(
    attempt: Callable[[], Awaitable[_T]],
    *,
    max_attempts: int,
    base_delay_seconds: float,
    max_delay_seconds: float,
    deadline_seconds: float | None = None,
) -> _T:
    """Run ``attempt`` under :func:`runtime.retry.retry_with_backoff` within a total deadline.

    Whether a failure is retried is decided by the raised error's ``retryable`` attribute
    alone (set by the client's ``_translate``: false for a write that may have been applied),
    through :func:`runtime.retry.is_retryable`. The first attempt runs directly (the common,
    successful case pays nothing for the retry machinery); the retries after a retryable
    failure run under :func:`runtime.retry.retry_with_backoff`, within what is left of the
    deadline.
    """
    started = _monotonic()
    try:
        return await attempt()
    except PipelineError as exc:
        if max_attempts == 1 or not is_retryable(exc):
            raise
        first = exc
    delay = backoff_delay(0, base_delay=base_delay_seconds, max_delay=max_delay_seconds)
    left = None if deadline_seconds is None else deadline_seconds - (_monotonic() - started)
    if left is not None and left <= delay:
        raise first
    _logger.warning(
        "Retrying after attempt 1/%d failed: %s",
        max_attempts,
        type(first).__name__,
        extra={
            "attempt": 1,
            "max_attempts": max_attempts,
            "delay_seconds": round(delay, 3),
            "error_type": type(first).__name__,
            "error": str(first),
            "job_id": first.job_id,
        },
    )
    await _sleep(delay)
    retrying = retry_with_backoff(
        max_attempts=max_attempts - 1,
        base_delay=min(base_delay_seconds * 2, max_delay_seconds),
        max_delay=max_delay_seconds,
        deadline_seconds=None if left is None else max(0.001, left - delay),
    )(attempt)
    return await retrying()


async def _sleep(seconds: float) -> None:
    from runtime.testing import is_testing

    await asyncio.sleep(0 if is_testing() else seconds)


def _deadline_error(
    budget: float, *, sent: bool, idempotent: bool, job_id: UUID | None
) -> ServiceUnavailableError:
    """The error of a call whose total time budget is spent.

    Retryable (by a caller's own, later retry) only if repeating cannot apply a write twice:
    nothing was sent, or the call is idempotent.
    """
    safe = not sent or idempotent
    details: dict[str, Any] = {"deadline_seconds": budget}
    if not safe:
        details["not_retried"] = (
            "the statement may have reached the database and the call is not idempotent"
        )
    return ServiceUnavailableError(
        f"no answer from the database within the call deadline of {budget:g} s",
        job_id,
        code="deadline_exceeded",
        retryable=safe,
        details=details,
        service="database",
    )


# -- capturing the HTTP status of the response (postgrest's APIError does not keep it) ---------


class _StatusProbe:
    __slots__ = ("response", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.response: httpx.Response | None = None


_PROBE: ContextVar[_StatusProbe | None] = ContextVar("videogen_db_status_probe", default=None)


async def _record_status(response: httpx.Response) -> None:
    probe = _PROBE.get()
    if probe is not None:
        probe.status = response.status_code
        probe.response = response


def _with_exact_numbers(result: Any, response: httpx.Response | None) -> Any:
    """Re-decode a successful response's body with :func:`loads_exact` (Decimal, not float).

    postgrest-py decodes bodies with plain ``json.loads``; the body is read by the time
    ``execute()`` returns, so it is decoded again here and ``data`` replaced. ``maybe_single()``
    turns a one-row list into that row; the same is done here.
    """
    if response is None or not response.is_success or not isinstance(result, APIResponse):
        return result
    try:
        body = response.content
    except httpx.ResponseNotRead:  # pragma: no cover - execute() always reads the body
        return result
    if not body:
        return result
    try:
        data = loads_exact(body)
    except ValueError:  # not JSON (a text answer): postgrest kept the text
        return result
    current: Any = result.data  # a SingleAPIResponse holds one row, despite the annotation
    if isinstance(data, list) and not isinstance(current, list):
        if len(data) != 1:  # pragma: no cover - postgrest raised for any other length
            return result
        data = data[0]
    return type(result).model_construct(data=data, count=result.count)


def _install_probe(client: httpx.AsyncClient) -> None:
    hooks = client.event_hooks["response"]
    if _record_status not in hooks:
        hooks.append(_record_status)


# -- options --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseOptions:
    """Connection and policy settings of a :class:`Database`.

    Args:
        url: The Supabase project URL (``https://<ref>.supabase.co``).
        service_key: The service-role key (bypasses row-level security; backend only).
        schema: The exposed schema the tables and functions live in.
        max_connections: Upper bound on open HTTP connections (1 to :data:`MAX_CONNECTIONS`).
        timeout_seconds: Read/write timeout of one request.
        connect_timeout_seconds: Time allowed to open a connection.
        pool_timeout_seconds: Time a request waits for a free connection.
        max_attempts: Tries per request for retryable failures (1 to 10).
        retry_base_delay_seconds: Delay before the first retry; doubles for each further one.
        retry_max_delay_seconds: Upper bound on one delay.
        health_check_timeout_seconds: Time :meth:`Database.health_check` allows.
        call_deadline_seconds: Total time budget of one call, attempts and backoff included
            (default 10 s); once spent the call fails with ``ServiceUnavailableError``
            (``code="deadline_exceeded"``).

    Raises:
        ConfigError: A value is missing or out of range.
    """

    url: str
    service_key: SecretStr
    schema: str = "public"
    max_connections: int = 10
    timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 5.0
    pool_timeout_seconds: float = 10.0
    max_attempts: int = 3
    retry_base_delay_seconds: float = 0.5
    retry_max_delay_seconds: float = 5.0
    health_check_timeout_seconds: float = 2.0
    call_deadline_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ConfigError("the database URL must be an http(s):// Supabase project URL")
        if not self.service_key.get_secret_value():
            raise ConfigError("the Supabase service key must not be empty")
        if not self.schema:
            raise ConfigError("schema must not be empty")
        check_bound(
            "max_connections", self.max_connections, low=1, high=MAX_CONNECTIONS, whole=True
        )
        check_bound("max_attempts", self.max_attempts, low=1, high=10, whole=True)
        for name in (
            "timeout_seconds",
            "connect_timeout_seconds",
            "pool_timeout_seconds",
            "retry_max_delay_seconds",
            "health_check_timeout_seconds",
            "call_deadline_seconds",
        ):
            check_bound(name, getattr(self, name), low=0, high=300, above_low=True)
        check_bound(  # never above the cap, which would make every delay the cap
            "retry_base_delay_seconds",
            self.retry_base_delay_seconds,
            low=0,
            high=min(60, self.retry_max_delay_seconds),
        )


def _options_from_settings() -> DatabaseOptions:
    from runtime.config import get_settings

    settings = get_settings()
    return DatabaseOptions(
        url=settings.supabase_url,
        service_key=settings.supabase_service_key,
        max_connections=settings.db_pool_max_connections,
        timeout_seconds=settings.http_timeout_seconds,
    )


# -- the query builder wrapper -------------------------------------------------------------


def _is_builder(value: object) -> bool:
    return isinstance(value, AsyncRequestBuilder) or callable(getattr(value, "execute", None))


class Query:
    """A PostgREST request builder whose ``execute()`` applies our retry and error policy.

    Every builder method of postgrest-py is available (``select``, ``insert``, ``eq``,
    ``order``, ``limit``, ``single``...); each returns a :class:`Query` again. Values given to
    ``insert``, ``upsert`` and ``update`` go through :func:`to_json_value`, so ``UUID``,
    ``Decimal`` and ``datetime`` values are sent exactly.
    """

    __slots__ = ("_builder", "_database", "_idempotent", "_is_rpc", "_job_id")

    def __init__(
        self,
        database: Database,
        builder: Any,
        *,
        is_rpc: bool = False,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> None:
        self._database = database
        self._builder = builder
        self._is_rpc = is_rpc
        self._idempotent = idempotent
        self._job_id = job_id

    def _wrap(self, builder: Any) -> Query:
        return Query(
            self._database,
            builder,
            is_rpc=self._is_rpc,
            idempotent=self._idempotent,
            job_id=self._job_id,
        )

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._builder, name)
        if _is_builder(target):  # properties such as ``not_`` return the builder itself
            return self._wrap(target)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in _VALUE_METHODS:
                if args:
                    args = (to_json_value(args[0]), *args[1:])
                if "json" in kwargs:
                    kwargs["json"] = to_json_value(kwargs["json"])
            result = target(*args, **kwargs)
            return self._wrap(result) if _is_builder(result) else result

        call.__name__ = name
        call.__doc__ = getattr(target, "__doc__", None)
        return call

    def __repr__(self) -> str:
        return f"<Query {type(self._builder).__name__}>"

    @property
    def builder(self) -> Any:
        """The wrapped postgrest-py builder (its ``execute()`` bypasses our policy)."""
        return self._builder

    async def execute(self) -> Any:
        """Send the request, retrying where that is safe, and return postgrest's response.

        Returns:
            postgrest-py's ``APIResponse`` (``.data``, ``.count``), ``SingleAPIResponse`` or
            ``None`` (``maybe_single()`` with no row), as the builder defines.

        Raises:
            ValidationError: Nothing to execute yet (call ``select()``, ``insert()``... first),
                or a table write inside ``async with db.transaction()``.
            PipelineError: The request failed (see :mod:`runtime.error_mapping`).
        """
        request = getattr(self._builder, "request", None)
        if request is None:
            raise ValidationError(
                "nothing to execute: call select(), insert(), upsert(), update() or delete() first"
            )
        method = str(request.http_method).upper()
        if not self._is_rpc and method in _WRITE_METHODS and _ACTIVE_TRANSACTION.get() is not None:
            raise ValidationError(
                "db.table(...) writes inside `async with db.transaction()` are not part of the "
                "transaction; queue them with tx.table(...) instead"
            )
        idempotent = method in _READ_METHODS or (self._is_rpc and self._idempotent)
        return await self._database._send(
            self._builder.execute, idempotent=idempotent, job_id=self._job_id
        )


# -- the client -----------------------------------------------------------------------------


class Database(LazyClient[DatabaseOptions]):
    """Supabase (PostgREST) database access with bounded connections and our error policy.

    Args:
        url: The Supabase project URL.
        service_key: The service-role key.
        http_client: An ``httpx.AsyncClient`` to send requests with; the caller keeps ownership
            (:meth:`aclose` leaves it open). By default one is built with
            :func:`runtime.http.new_http_client` and closed by :meth:`aclose`.
        schema: The exposed schema.
        max_connections: Upper bound on HTTP connections, 1 to 10 (for a client built here).
        timeout_seconds: Read/write timeout per request (for a client built here).
        connect_timeout_seconds: Connect timeout (for a client built here).
        pool_timeout_seconds: Wait for a free connection (for a client built here).
        max_attempts: Tries per request for retryable failures.
        retry_base_delay_seconds: Backoff base between tries.
        retry_max_delay_seconds: Upper bound on one backoff delay.
        health_check_timeout_seconds: Time :meth:`health_check` allows by default.
        call_deadline_seconds: Total time budget of one call, attempts included.

    Raises:
        ConfigError: ``url`` or ``service_key`` is missing, or a bound is out of range.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        service_key: str | SecretStr | None = None,
        http_client: httpx.AsyncClient | None = None,
        schema: str = "public",
        max_connections: int = 10,
        timeout_seconds: float = 10.0,
        connect_timeout_seconds: float = 5.0,
        pool_timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        retry_base_delay_seconds: float = 0.5,
        retry_max_delay_seconds: float = 5.0,
        health_check_timeout_seconds: float = 2.0,
        call_deadline_seconds: float = 5.0,
    ) -> None:
        if url is None or service_key is None:
            raise ConfigError(
                "Database needs url= and service_key= (the module-level db reads them from "
                "SUPABASE_URL and SUPABASE_SERVICE_KEY)"
            )
        key = service_key if isinstance(service_key, SecretStr) else SecretStr(service_key)
        options = DatabaseOptions(
            url=url,
            service_key=key,
            schema=schema,
            max_connections=max_connections,
            timeout_seconds=timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
            pool_timeout_seconds=pool_timeout_seconds,
            max_attempts=max_attempts,
            retry_base_delay_seconds=retry_base_delay_seconds,
            retry_max_delay_seconds=retry_max_delay_seconds,
            health_check_timeout_seconds=health_check_timeout_seconds,
            call_deadline_seconds=call_deadline_seconds,
        )
        self._setup(options=options, factory=None, http_client=http_client)

    def _setup(
        self,
        *,
        options: DatabaseOptions | None,
        factory: Callable[[], DatabaseOptions] | None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super()._setup(options=options, factory=factory)
        self._http = http_client
        self._owns_http = http_client is None
        self._client: AsyncClient | None = None
        self._closed = False
        self._reusable = factory is not None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def client(self) -> AsyncClient:
        """The underlying supabase-py ``AsyncClient``, built on first access.

        Use it for what this wrapper does not cover (``db.client.schema(...)``, storage, auth);
        requests made through it bypass our retry and error policy.

        Raises:
            DatabaseError: ``code="client_closed"`` after :meth:`aclose` (non-lazy clients).
            ConfigError: The settings are missing or invalid.
        """
        if self._client is None:
            if self._closed:
                raise DatabaseError(
                    "this Database is closed; build a new one", code="client_closed"
                )
            from supabase import AsyncClient, AsyncClientOptions

            options = self.options
            if self._http is None:
                self._http = new_http_client(
                    max_connections=options.max_connections,
                    timeout_seconds=options.timeout_seconds,
                    connect_timeout_seconds=options.connect_timeout_seconds,
                    pool_timeout_seconds=options.pool_timeout_seconds,
                )
                self._owns_http = True
            _install_probe(self._http)
            self._client = AsyncClient(
                options.url,
                options.service_key.get_secret_value(),
                AsyncClientOptions(
                    schema=options.schema,
                    httpx_client=self._http,
                    postgrest_client_retry=False,
                    auto_refresh_token=False,
                    persist_session=False,
                ),
            )
        return self._client

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` every request goes through (built on first access)."""
        _ = self.client
        assert self._http is not None
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client this object built (an injected one is left open).

        A closed client refuses further requests, except the lazy module-level ``db``, which
        rebuilds on next use.
        """
        client, self._client = self._client, None
        http = self._http
        if self._owns_http:
            self._http = None
        if not self._reusable:
            self._closed = True
        if client is not None and http is not None and self._owns_http:
            await http.aclose()

    # -- the PRD API -----------------------------------------------------------------------

    def table(self, table_name: str, *, job_id: UUID | None = None) -> Query:
        """Start a query on a table or view (PostgREST's query builder).

        Args:
            table_name: The table, such as ``"jobs"``.
            job_id: The job the query belongs to, attached to errors and logs.

        Returns:
            A :class:`Query`; chain ``select()``, ``insert()``, filters..., then ``execute()``.

        Raises:
            ValidationError: ``table_name`` is not a non-empty string.
        """
        if not isinstance(table_name, str) or not table_name:
            raise ValidationError(f"table name must be a non-empty string, got {table_name!r}")
        return Query(self, self.client.table(table_name), job_id=job_id)

    from_ = table

    def rpc(
        self,
        fn: str,
        params: Mapping[str, Any] | None = None,
        *,
        count: CountMethod | None = None,
        head: bool = False,
        get: bool = False,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> Query:
        """Start a call of a SQL function (``POST /rest/v1/rpc/<fn>``).

        Args:
            fn: The function's name.
            params: Named arguments, converted by :func:`to_json_value`.
            count: Ask PostgREST to count the rows of a set-returning function.
            head: Send ``HEAD`` (no body wanted).
            get: Send ``GET`` (read-only transaction; for ``STABLE`` functions).
            idempotent: The call has the same effect when made twice (our cost functions with
                an idempotency key, settle/release): transient failures are then retried.
            job_id: The job the call belongs to, attached to errors and logs.

        Returns:
            A :class:`Query`; filters may follow, then ``execute()``.

        Raises:
            ValidationError: ``fn`` is empty or a parameter cannot be sent as JSON.
        """
        if not isinstance(fn, str) or not fn:
            raise ValidationError(f"function name must be a non-empty string, got {fn!r}")
        arguments = to_json_value(dict(params or {}))
        builder = self.client.rpc(fn, arguments, count=count, head=head, get=get)
        return Query(
            self, builder, is_rpc=True, idempotent=idempotent or get or head, job_id=job_id
        )

    async def call_function(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> Any:
        """Call ``public.<name>`` over PostgREST and return its JSON result.

        Args:
            name: The function's name.
            params: Named arguments, converted by :func:`to_json_value`.
            idempotent: Whether calling twice has the effect of calling once (allows retries).
            job_id: The job the call belongs to, for errors and logs.

        Returns:
            The function's result (PostgREST's response body, decoded).

        Raises:
            ValidationError: A name or parameter name that is not an identifier, or a value that
                cannot be sent (nothing is sent).
            PipelineError: The call failed (see :mod:`runtime.error_mapping`).
        """
        check_identifier(name, "function name")
        if params is not None and not isinstance(params, Mapping):
            raise ValidationError(f"params must be a mapping, got {type(params).__name__}")
        for key in params or {}:
            check_identifier(key, "parameter name")
        response = await self.rpc(name, params, idempotent=idempotent, job_id=job_id).execute()
        return response.data

    def transaction(self, *, job_id: UUID | None = None) -> Transaction:
        """Open an all-or-nothing batch of writes, applied when the ``async with`` block ends.

        Args:
            job_id: The job the batch belongs to, for errors and logs.

        Returns:
            A :class:`Transaction` to use as ``async with db.transaction() as tx:``.
        """
        return Transaction(self, job_id=job_id)

    async def health_check(self, *, timeout_seconds: float | None = None) -> bool:
        """Report whether the database answers, within a short timeout. Never raises.

        Calls the SQL function ``health()`` with ``GET /rest/v1/rpc/health`` once (no retries).

        Args:
            timeout_seconds: Time allowed; defaults to the client's
                ``health_check_timeout_seconds`` (2 s).

        Returns:
            ``True`` when PostgREST and the database answered and our schema is present;
            ``False`` on any failure, including a timeout or missing configuration.
        """

        async def probe() -> bool:
            data = (await self.client.rpc("health", get=True).execute()).data
            return isinstance(data, dict) and data.get("status") == "ok"

        return await run_health_check(
            probe,
            timeout_seconds=timeout_seconds or self._health_timeout(),
            logger=_logger,
            service="Database",
        )

    def _health_timeout(self) -> float:
        try:
            return self.options.health_check_timeout_seconds
        except PipelineError:  # missing settings: the check itself will fail and say so
            return _DEFAULT_HEALTH_TIMEOUT_SECONDS

    # -- internals -------------------------------------------------------------------------

    def _translate(
        self, exc: Exception, *, status: int | None, idempotent: bool, job_id: UUID | None
    ) -> PipelineError:
        upstream: Exception = exc
        if isinstance(exc, APIError) and exc.code is None and status is not None:
            # A gateway's JSON error without a code: let the mapping see the HTTP status.
            upstream = APIError({**exc.json(), "code": str(status)})
        error = translate_exception(upstream, service="database", job_id=job_id)
        error.__cause__ = exc
        if getattr(error, "status_code", 0) is None and status is not None:
            error.status_code = status  # type: ignore[attr-defined]
        safe = repeat_is_safe(exc, status=status, idempotent=idempotent)
        if error.retryable and not safe:
            error.details["not_retried"] = (
                "the request may have reached the database and is not idempotent"
            )
        error.retryable = safe
        return error

    async def _send(
        self, send: Callable[[], Awaitable[Any]], *, idempotent: bool, job_id: UUID | None
    ) -> Any:
        options = self.options
        budget = options.call_deadline_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget

        async def attempt() -> Any:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _deadline_error(budget, sent=False, idempotent=idempotent, job_id=job_id)
            probe = _StatusProbe()
            token = _PROBE.set(probe)
            try:
                async with asyncio.timeout(remaining):
                    result = await send()
            except TimeoutError as exc:
                raise _deadline_error(
                    budget, sent=True, idempotent=idempotent, job_id=job_id
                ) from exc
            except Exception as exc:
                raise self._translate(
                    exc, status=probe.status, idempotent=idempotent, job_id=job_id
                ) from exc
            finally:
                _PROBE.reset(token)
            return _with_exact_numbers(result, probe.response)

        return await _with_retries(
            attempt,
            max_attempts=options.max_attempts,
            base_delay_seconds=options.retry_base_delay_seconds,
            max_delay_seconds=options.retry_max_delay_seconds,
            deadline_seconds=budget,
        )


def get_database() -> Database:
    """Return the process-wide :data:`db` (for dependency injection in FastAPI and tests).

    Returns:
        The lazy module-level client.
    """
    return db


# -- transactions ---------------------------------------------------------------------------

_ACTIVE_TRANSACTION: ContextVar[Transaction | None] = ContextVar(
    "videogen_active_transaction", default=None
)

_Operation = Literal["insert", "upsert", "update", "delete"]


def _rows(values: Any, *, what: str) -> list[dict[str, Any]]:
    rows: Sequence[Any]
    if isinstance(values, Mapping):
        rows = [values]
    elif isinstance(values, list | tuple):
        rows = values
    else:
        raise ValidationError(f"{what} expects a mapping or a list of mappings")
    if not rows:
        raise ValidationError(f"{what} needs at least one row")
    result: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row, Mapping) or not row:
            raise ValidationError(f"{what} expects non-empty mappings of column to value")
        result.append(to_json_value(row))
    return result


class PendingWrite:
    """One write queued on a :class:`Transaction` (built by :class:`TableWriter`).

    ``update()`` and ``delete()`` need at least one filter (``eq``/``match``). Call
    ``await ....execute()`` to queue it; after the transaction commits, :attr:`rows` holds the
    affected rows.
    """

    def __init__(
        self,
        transaction: Transaction,
        table: str,
        op: _Operation,
        rows: list[dict[str, Any]],
    ) -> None:
        self._transaction = transaction
        self.table = table
        self.op: _Operation = op
        self._rows = rows
        self._filters: dict[str, Any] = {}
        self.queued = False
        self.rows: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"<PendingWrite {self.op} {self.table} queued={self.queued}>"

    def eq(self, column: str, value: Any) -> Self:
        """Restrict an update or delete to rows whose ``column`` equals ``value``.

        Args:
            column: The column name.
            value: The value to match (not ``None``).

        Returns:
            This write, for chaining.

        Raises:
            ValidationError: Not an update/delete, already queued, or a bad column or value.
        """
        if self.op not in ("update", "delete"):
            raise ValidationError(f"{self.op} takes no filters")
        if self.queued:
            raise ValidationError("this write is already queued")
        if not isinstance(column, str) or not column:
            raise ValidationError(f"filter column must be a non-empty string, got {column!r}")
        if value is None:
            raise ValidationError(f"filter value for {column!r} must not be None")
        self._filters[column] = to_json_value(value)
        return self

    def match(self, query: Mapping[str, Any]) -> Self:
        """Add an equality filter for every item of ``query``.

        Args:
            query: Column names and the values they must equal.

        Returns:
            This write, for chaining.

        Raises:
            ValidationError: As for :meth:`eq`.
        """
        for column, value in query.items():
            self.eq(column, value)
        return self

    async def execute(self) -> Self:
        """Queue the write on its transaction (nothing is sent until the block ends).

        Returns:
            This write; :attr:`rows` is filled when the transaction commits.

        Raises:
            ValidationError: Already queued, the transaction is no longer open, an update or
                delete has no filter, or the batch would exceed :data:`MAX_BATCH_OPERATIONS`.
        """
        self._transaction._queue(self)
        return self

    def _operations(self) -> list[dict[str, Any]]:
        if self.op in ("update", "delete"):
            if not self._filters:
                raise ValidationError(
                    f"{self.op} on {self.table} needs a filter (eq or match); refusing to "
                    "touch every row"
                )
            operation: dict[str, Any] = {
                "op": self.op,
                "table": self.table,
                "match": dict(self._filters),
            }
            if self.op == "update":
                operation["values"] = self._rows[0]
            return [operation]
        return [{"op": self.op, "table": self.table, "values": row} for row in self._rows]


class TableWriter:
    """Builds writes on one table of a :class:`Transaction` (``tx.table("jobs")``)."""

    def __init__(self, transaction: Transaction, table: str) -> None:
        self._transaction = transaction
        self.table = table

    def _write(self, op: _Operation, rows: list[dict[str, Any]]) -> PendingWrite:
        write = PendingWrite(self._transaction, self.table, op, rows)
        self._transaction._writes.append(write)
        return write

    def insert(self, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> PendingWrite:
        """Insert one row or several.

        Args:
            values: A row (column to value) or a list of rows.

        Returns:
            The pending write; ``await`` its ``execute()`` to queue it.

        Raises:
            ValidationError: No rows, or a value that cannot be sent as JSON.
        """
        return self._write("insert", _rows(values, what="insert"))

    def upsert(self, values: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> PendingWrite:
        """Insert rows, or update them where their natural key already exists.

        The key is ``id`` for jobs and ``job_id`` + ``stage_name`` for job_stages.

        Args:
            values: A row or a list of rows, each including the key columns.

        Returns:
            The pending write.

        Raises:
            ValidationError: As for :meth:`insert`.
        """
        return self._write("upsert", _rows(values, what="upsert"))

    def update(self, values: Mapping[str, Any]) -> PendingWrite:
        """Update the rows selected by the filters that follow (``.eq(...)``).

        Args:
            values: Columns to set and their new values.

        Returns:
            The pending write; add a filter, then ``await ....execute()``.

        Raises:
            ValidationError: ``values`` is not one non-empty mapping.
        """
        if not isinstance(values, Mapping):
            raise ValidationError("update expects one mapping of column to value")
        return self._write("update", _rows(values, what="update"))

    def delete(self) -> PendingWrite:
        """Delete the rows selected by the filters that follow (``.eq(...)``).

        Returns:
            The pending write; add a filter, then ``await ....execute()``.
        """
        return self._write("delete", [])


class Transaction:
    """An all-or-nothing batch of writes applied by the SQL function ``apply_batch``.

    Use it as ``async with db.transaction() as tx:``. Writes are queued with
    ``await tx.table(name).insert(...).execute()`` (or ``upsert``, ``update(...).eq(...)``,
    ``delete().eq(...)``) and sent together, in order, in one database transaction when the block
    ends without an exception. If the block raises, nothing is sent. If the batch fails, nothing
    of it is applied and the error is raised. Reads inside the block do not see queued writes.

    Args:
        caller: Where to send the batch (:class:`Database` or ``PostgresDatabase``).
        job_id: The job the batch belongs to, for errors and logs.
    """

    def __init__(self, caller: FunctionCaller, *, job_id: UUID | None = None) -> None:
        self._caller = caller
        self._job_id = job_id
        self._writes: list[PendingWrite] = []
        self._operations: list[dict[str, Any]] = []
        self._queued: list[tuple[PendingWrite, int, int]] = []
        self._state: Literal["new", "open", "committing", "committed", "discarded", "failed"] = (
            "new"
        )
        self._token: Any = None
        self.results: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"<Transaction {self._state} operations={len(self._operations)}>"

    @property
    def state(self) -> str:
        """``new``, ``open``, ``committing``, ``committed``, ``discarded`` or ``failed``."""
        return self._state

    @property
    def operations(self) -> list[dict[str, Any]]:
        """A copy of the operations queued so far, as sent to ``apply_batch``."""
        return [dict(op) for op in self._operations]

    def table(self, table_name: str) -> TableWriter:
        """Start a write on a table inside this transaction.

        Args:
            table_name: ``"jobs"`` or ``"job_stages"`` (the tables ``apply_batch`` allows).

        Returns:
            A :class:`TableWriter`.

        Raises:
            ValidationError: The transaction is not open, or the name is not a non-empty string.
        """
        self._require_open()
        if not isinstance(table_name, str) or not table_name:
            raise ValidationError(f"table name must be a non-empty string, got {table_name!r}")
        return TableWriter(self, table_name)

    def _require_open(self) -> None:
        if self._state != "open":
            raise ValidationError(
                f"this transaction is {self._state}; use it inside `async with db.transaction()`"
            )

    def _queue(self, write: PendingWrite) -> None:
        self._require_open()
        if write.queued:
            raise ValidationError("this write is already queued")
        # Tables and columns are checked by apply_batch itself, against the allow-list generated
        # from the schemas into the database (a copy here could be older than a migrated
        # database): a refusal is SQLSTATE 22023, raised as ValidationError, and the batch, all
        # or nothing, writes nothing.
        operations = write._operations()
        if len(self._operations) + len(operations) > MAX_BATCH_OPERATIONS:
            raise ValidationError(
                f"a transaction holds at most {MAX_BATCH_OPERATIONS} operations; split the batch"
            )
        start = len(self._operations)
        self._operations.extend(operations)
        self._queued.append((write, start, len(operations)))
        write.queued = True

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise ValidationError("a transaction can be entered only once")
        if _ACTIVE_TRANSACTION.get() is not None:
            raise ValidationError("transactions do not nest; queue every write on the outer one")
        self._token = _ACTIVE_TRANSACTION.set(self)
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _ACTIVE_TRANSACTION.reset(self._token)
        if exc_type is not None:
            self._state = "discarded"
            return
        forgotten = [write for write in self._writes if not write.queued]
        if forgotten:
            self._state = "discarded"
            raise ValidationError(
                f"{len(forgotten)} write(s) built on tx.table(...) were never executed "
                f"(first: {forgotten[0].op} on {forgotten[0].table}); nothing was sent"
            )
        await self._commit()

    async def _commit(self) -> None:
        self._state = "committing"
        if not self._operations:
            self.results = []
            self._state = "committed"
            return
        try:
            results = await self._caller.call_function(
                "apply_batch",
                {"p_operations": self._operations},
                idempotent=False,
                job_id=self._job_id,
            )
        except BaseException:
            self._state = "failed"
            raise
        if not isinstance(results, list) or len(results) != len(self._operations):
            self._state = "failed"
            raise DatabaseError(
                "apply_batch returned an unexpected result; the batch may have been applied",
                self._job_id,
                details={"result_type": type(results).__name__},
            )
        self.results = results
        for write, start, count in self._queued:
            write.rows = [row for item in results[start : start + count] for row in item["rows"]]
        self._state = "committed"


db: Database = Database.lazy(_options_from_settings)
"""The process-wide database client, built from :mod:`runtime.config` on first use."""
