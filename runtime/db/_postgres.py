"""The direct PostgreSQL path: our SQL functions over a pooled psycopg 3 connection.

Usage::

    from runtime.db import pg  # or: from runtime.postgres import pg

    result = await pg.call_function(
        "reserve_cost",
        {"p_job_id": job_id, "p_stage_name": "video_generation", "p_api_name": "svd",
         "p_amount": Decimal("0.06"), "p_limit": Decimal("20.00"), "p_idempotency_key": key},
        idempotent=True,
    )
    async with pg.transaction() as tx:
        await tx.table("jobs").update({"status": "processing"}).eq("id", job_id).execute()
    ok = await pg.health_check()

Supabase gives backends a PostgreSQL connection string (``DATABASE_URL``); this path uses it
with psycopg 3's ``AsyncConnectionPool`` (at most 10 connections by default, autocommit, a
statement timeout, connections checked before use). It offers exactly what
the PostgREST ``Database`` offers for SQL functions (``FunctionCaller``, in
:mod:`runtime.db._common`): the same function names, the same arguments (converted by
``to_json_value``), the same JSON results (the call is
``SELECT to_jsonb(public.<fn>(p_a => ..., ...))``, so a result looks exactly like PostgREST's
response body, decoded the same way: ``loads_exact``, numbers with a fraction
as ``Decimal``) and the same error translation
(:func:`runtime.error_mapping.translate_exception`).
Cost tracking and transactions (:mod:`runtime.db._transaction`) run unchanged on either.
Options: ``PostgresDatabase(dsn, max_connections=5)``,
``PostgresDatabase(options=PostgresOptions(dsn=...))`` or ``PostgresDatabase.from_settings()``.

Every call has a deadline, ``call_deadline_seconds`` (5 s by default): pool wait, attempts and
backoff included; once spent the call fails with ``ServiceUnavailableError``
(``code="deadline_exceeded"``), and a statement still running then is cut off (its socket is
shut down). The pool reconnects with a capped backoff (``reconnect_max_delay_seconds``, 0.25 s),
so calls succeed again within about that of the server coming back. Connections carry no session
state (the statement timeout travels as ``SET LOCAL`` with each statement, no prepared
statements), so the same settings work through a transaction-mode pooler (PgBouncer, Supavisor);
see ``docs/database.md``.

Retries (up to 3 attempts, :mod:`runtime.db._retries`) follow the same rule as the
PostgREST path: a failure is retried only if it is transient and repeating cannot apply a write
twice, that is when no connection could be obtained (nothing was sent), when the server rolled
the transaction back (``40001``, ``40P01``), or when the call is idempotent. A connection that
breaks is discarded by the pool and replaced on the next call.

``pg`` is lazy: importing this module opens nothing and reads no configuration.
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

import asyncio
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, Final, Self
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb, set_json_loads
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import SecretStr

from runtime._lifecycle import LazyClient, resolve_options, run_health_check
from runtime.db._common import check_identifier, loads_exact, to_json_value
from runtime.db._options import PostgresOptions
from runtime.db._pool import (
    CappedPool,
    Watchdog,
    acquire,
    checkout,
    select_call,
    watchdog,
    with_timeout,
)
from runtime.db._retries import deadline_error, mark_retryable, with_retries
from runtime.db._transaction import Transaction
from runtime.error_mapping import translate_exception
from runtime.errors import ConfigError, DatabaseError, PipelineError, ValidationError
from runtime.logging import get_logger

__all__ = ["PostgresDatabase", "pg", "repeat_is_safe"]

_logger = get_logger("runtime.postgres")

_ROLLED_BACK_STATES: Final = frozenset({"40001", "40P01"})
_UNAVAILABLE_STATES: Final = frozenset({"57P01", "57P02", "57P03", "53300"})
_DEFAULT_HEALTH_TIMEOUT_SECONDS: Final[float] = PostgresOptions.model_fields[
    "health_check_timeout_seconds"
].default


def repeat_is_safe(exc: BaseException, *, connected: bool, idempotent: bool) -> bool:
    """Decide whether a failed call may be made again.

    Args:
        exc: What the attempt raised.
        connected: Whether a connection had been obtained (the statement may have been sent).
        idempotent: Whether the call has the same effect when made twice.

    Returns:
        ``True`` for a transient failure that cannot cause a double write: no connection could be
        obtained, the server rolled the transaction back, or an idempotent call lost its
        connection; ``False`` otherwise.
    """
    if not isinstance(exc, psycopg.Error):
        return False
    if not connected:
        return isinstance(exc, psycopg.OperationalError)
    state = exc.sqlstate
    if state in _ROLLED_BACK_STATES:
        return True
    transient = (
        state in _UNAVAILABLE_STATES
        or (state is not None and state.startswith("08"))
        or (state is None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError))
    )
    return transient and idempotent


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Set up a new pooled connection: json/jsonb results decode numbers exactly (Decimal)."""
    set_json_loads(loads_exact, conn)


def _timeout_ms(seconds: float) -> int:
    """``seconds`` in milliseconds, rounded up to a tenth of a second (few distinct statements)."""
    return max(100, math.ceil(seconds * 10) * 100)


@functools.lru_cache(maxsize=512)
def _checked_select(name: str, keys: tuple[str, ...]) -> bytes:
    for key in keys:
        check_identifier(key, "parameter name")
    return select_call(name, keys)


def _select(name: str, keys: tuple[Any, ...]) -> bytes:
    """The call's ``SELECT``, once its parameter names are checked (both cached per signature)."""
    for key in keys:
        if type(key) is not str:  # not hashable for the cache, or not a name: refused here
            check_identifier(key, "parameter name")
    return _checked_select(name, keys)


def _arguments(params: Mapping[str, Any]) -> dict[str, Any]:
    """The values to bind, converted as the PostgREST path converts them.

    A float for a money argument is refused; mappings and lists are sent as jsonb.
    """
    converted: dict[str, Any] = to_json_value(params)
    return {
        key: Jsonb(value) if type(value) is dict or type(value) is list else value
        for key, value in converted.items()
    }


def _new_pool(options: PostgresOptions) -> CappedPool:
    """The pool (not yet opened): autocommit, client-side binding, no prepared statements."""
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "connect_timeout": max(2, math.ceil(options.connect_timeout_seconds)),
        "application_name": options.application_name,
        "cursor_factory": psycopg.AsyncClientCursor,
        "prepare_threshold": None,
    }
    return CappedPool(
        options.dsn.get_secret_value(),
        min_size=options.min_connections,
        max_size=options.max_connections,
        kwargs=kwargs,
        timeout=options.pool_timeout_seconds,
        configure=_configure,
        name="videogen-postgres",
        open=False,
        reconnect_max_delay=options.reconnect_max_delay_seconds,
    )


class PostgresDatabase(LazyClient[PostgresOptions]):
    """Our SQL functions over a bounded psycopg 3 connection pool.

    Args:
        dsn: The connection string (``postgresql://...``), with any other
            :class:`~runtime.db.PostgresOptions` field as a keyword
            (``PostgresDatabase(dsn, max_connections=5)``).
        options: Or the options whole; the module-level :data:`pg` reads them from
            ``DATABASE_URL`` on first use (:meth:`PostgresOptions.from_settings`).
        **fields: Other :class:`~runtime.db.PostgresOptions` fields, with ``dsn``.

    Raises:
        ConfigError: Neither a dsn nor options, both options and fields, or an invalid field.
    """

    def __init__(
        self,
        dsn: str | SecretStr | None = None,
        *,
        options: PostgresOptions | None = None,
        **fields: Any,
    ) -> None:
        given = fields if dsn is None else {"dsn": dsn, **fields}
        if options is None and "dsn" not in given:
            raise ConfigError(
                "PostgresDatabase needs a dsn or options= (the module-level pg reads DATABASE_URL)"
            )
        options = resolve_options(PostgresOptions, options, given, client="PostgresDatabase")
        self._setup(options=options, factory=None)

    @classmethod
    def from_settings(cls) -> PostgresDatabase:
        """Build a client from ``DATABASE_URL`` now (the lazy :data:`pg` does it later).

        Returns:
            A new client; ``async with`` it or call :meth:`aclose`.

        Raises:
            ConfigError: ``DATABASE_URL`` is not set, or a setting is invalid.
        """
        return cls(options=PostgresOptions.from_settings())

    def _setup(
        self, *, options: PostgresOptions | None, factory: Callable[[], PostgresOptions] | None
    ) -> None:
        super()._setup(options=options, factory=factory)
        self._pool: CappedPool | None = None
        self._opened = False
        self._open_lock: asyncio.Lock | None = None
        self._closed = False
        self._reusable = factory is not None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        """The connection pool, built (not yet opened) on first access.

        Connections carry no session state: no startup ``options``, no session ``SET``, no
        server-side prepared statements (client-side binding), so a transaction-mode pooler
        works.

        Raises:
            DatabaseError: ``code="client_closed"`` after :meth:`aclose` (non-lazy clients).
            ConfigError: The settings are missing or invalid.
        """
        if self._pool is None:
            if self._closed:
                raise DatabaseError(
                    "this PostgresDatabase is closed; build a new one", code="client_closed"
                )
            self._pool = _new_pool(self.options)
        return self._pool

    async def _open_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        pool = self.pool
        if not self._opened:
            if self._open_lock is None:
                self._open_lock = asyncio.Lock()
            async with self._open_lock:
                if not self._opened:
                    await pool.open(wait=False)
                    self._opened = True
        return pool

    async def aclose(self) -> None:
        """Close the pool and its connections.

        A closed client refuses further calls, except the lazy module-level ``pg``, which opens
        a new pool on next use.
        """
        pool, self._pool = self._pool, None
        opened, self._opened = self._opened, False
        self._open_lock = None
        if not self._reusable:
            self._closed = True
        if pool is not None and opened:
            await pool.close(timeout=5.0)

    async def __aenter__(self) -> Self:
        await self._open_pool()
        return self

    # -- the API -----------------------------------------------------------------------------

    async def call_function(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> Any:
        """Call ``public.<name>`` with named arguments and return its result as JSON.

        The call, every retry included, ends within ``call_deadline_seconds``.

        Args:
            name: The function's name in schema ``public`` (an identifier).
            params: Named arguments (identifiers); values are converted by
                ``to_json_value`` (mappings and lists are sent as jsonb).
            idempotent: Whether calling twice has the effect of calling once (allows retries
                of a call whose outcome is unknown).
            job_id: The job the call belongs to, for errors and logs.

        Returns:
            The function's single result, as PostgREST would return it (``to_jsonb``, decoded).

        Raises:
            ValidationError: A bad name, parameter name or value (nothing is sent).
            ServiceUnavailableError: The database could not be reached, or the deadline was
                spent (``code="deadline_exceeded"``); ``retryable`` is false when the call may
                have been applied and is not idempotent.
            PipelineError: The call failed (see :mod:`runtime.error_mapping`).
        """
        check_identifier(name, "function name")
        if params is None:
            params = {}
        elif not isinstance(params, Mapping):
            raise ValidationError(f"params must be a mapping, got {type(params).__name__}")
        keys = tuple(params)
        select = _select(name, keys)
        values = _arguments(params)
        options = self.options
        budget = options.call_deadline_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        statement_limit = options.statement_timeout_seconds

        async def attempt() -> Any:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise deadline_error(budget, sent=False, idempotent=idempotent, job_id=job_id)
            limit = remaining if statement_limit is None else min(statement_limit, remaining)
            query = with_timeout(select, _timeout_ms(limit))
            connected = False
            dog: Watchdog | None = None
            try:
                pool = await self._open_pool()
                conn = await acquire(pool, min(options.pool_timeout_seconds, remaining))
                connected = True
                try:
                    dog = Watchdog(conn, deadline)
                    try:
                        cursor = await conn.execute(query, values)
                        cursor.nextset()  # past the SET LOCAL's result
                        row = await cursor.fetchone()
                    finally:
                        dog.cancel()
                finally:
                    await pool.putconn(conn)
            except Exception as exc:
                if dog is not None and dog.fired:
                    raise deadline_error(
                        budget, sent=True, idempotent=idempotent, job_id=job_id
                    ) from exc
                raise self._translate(
                    exc, connected=connected, idempotent=idempotent, job_id=job_id
                ) from exc
            return None if row is None else row[0]

        return await with_retries(
            attempt,
            max_attempts=options.max_attempts,
            base_delay_seconds=options.retry_base_delay_seconds,
            max_delay_seconds=options.retry_max_delay_seconds,
            deadline_seconds=budget,
        )

    def transaction(self, *, job_id: UUID | None = None) -> Transaction:
        """Open an all-or-nothing batch of writes (see :mod:`runtime.db._transaction`).

        Args:
            job_id: The job the batch belongs to, for errors and logs.

        Returns:
            A transaction to use as ``async with pg.transaction() as tx:``.
        """
        return Transaction(self, job_id=job_id)

    async def health_check(self, *, timeout_seconds: float | None = None) -> bool:
        """Report whether the database answers, within a short timeout. Never raises.

        Runs ``SELECT public.health()`` once (no retries).

        Args:
            timeout_seconds: Time allowed; defaults to ``health_check_timeout_seconds`` (2 s).

        Returns:
            ``True`` when the database answered and our schema is present; ``False`` on any
            failure, including a timeout or missing configuration.
        """
        try:
            limit = timeout_seconds or self.options.health_check_timeout_seconds
        except PipelineError:
            limit = timeout_seconds or _DEFAULT_HEALTH_TIMEOUT_SECONDS

        async def probe() -> bool:
            pool = await self._open_pool()
            async with checkout(pool, limit) as conn, watchdog(conn, limit):
                row = await (await conn.execute("SELECT public.health()")).fetchone()
            data = row[0] if row else None
            return isinstance(data, dict) and data.get("status") == "ok"

        return await run_health_check(
            probe, timeout_seconds=limit, logger=_logger, service="Direct database"
        )

    # -- internals -------------------------------------------------------------------------

    def _translate(
        self, exc: Exception, *, connected: bool, idempotent: bool, job_id: UUID | None
    ) -> PipelineError:
        if isinstance(exc, PoolTimeout):
            stats = self._pool.get_stats() if self._pool is not None else {}
            _logger.warning(
                "No database connection within %.1fs",
                self.options.pool_timeout_seconds,
                extra={"pool_size": stats.get("pool_size"), "pool_max": stats.get("pool_max")},
            )
        error = translate_exception(exc, service="database", job_id=job_id)
        safe = repeat_is_safe(exc, connected=connected, idempotent=idempotent)
        return mark_retryable(error, safe=safe)


pg: PostgresDatabase = PostgresDatabase.lazy(PostgresOptions.from_settings)
"""The process-wide direct PostgreSQL client, built from ``DATABASE_URL`` on first use."""
