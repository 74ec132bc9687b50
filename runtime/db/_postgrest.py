"""The Supabase database client: PostgREST's query builder with our retries, errors and batches.

Usage::

    from runtime.db import db  # or: from runtime.database import db

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
around one :func:`runtime._http.new_http_client` (at most 10 connections, explicit timeouts), which
:meth:`Database.aclose` closes. Workers call ``await db.aclose()`` before their event loop ends;
the module-level ``db`` rebuilds itself on next use, in the then-running loop. Other clients:
``Database(options=DatabaseOptions(url=..., service_key=...))`` or ``Database.from_settings()``.

What this adds to supabase-py:

* **Errors become ours.** ``execute()`` raises :mod:`runtime.errors` exceptions made by
  :func:`runtime.error_mapping.translate_exception` (PostgREST's code, message, hint and details
  kept; the HTTP status filled in), chained from the original.
* **Retries where repeating is safe.** Up to 3 attempts with exponential backoff
  (:func:`runtime.db._retries.with_retries`) for transient failures only: connection errors,
  timeouts, HTTP 502/503/504, PostgREST's ``PGRST000``-``PGRST003`` (it could not reach the
  database) and serialisation failures or deadlocks (``40001``, ``40P01``: the transaction rolled
  back), within one call deadline (``call_deadline_seconds``). A failure is retried only if
  repeating it cannot apply a write twice: reads (``GET``,
  ``HEAD``), RPCs marked ``idempotent=True``, and any request that never reached the database
  (connect errors, pool timeouts, ``PGRST000``-``PGRST003``). Other errors have
  ``retryable=False``. supabase-py's own retry loop is switched off so this policy
  (:mod:`runtime.db._requests`) is the only one.
* **Atomic batches.** :meth:`Database.transaction` queues writes and applies them through the SQL
  function ``apply_batch`` in one database transaction (:mod:`runtime.db._transaction`).
  Nothing is sent if the block raises. Writes made with ``db.table(...)`` inside the block would not
  be part of it, so they raise :class:`~runtime.errors.ValidationError`.
* **One calling convention for SQL functions.** ``FunctionCaller`` (``call_function``) is
  implemented here over PostgREST and in :mod:`runtime.db._postgres` over a direct connection,
  with the same names, arguments (``to_json_value``) and results (JSON), so cost tracking and
  transactions work over either (:mod:`runtime.db._common`).
* **Money stays exact.** PostgREST sends ``numeric`` columns (``total_cost``, ``cost``...) as
  JSON numbers (``0.060000``), which plain JSON decoding turns into ``float``. Every successful
  response body that goes through ``execute()`` is decoded with ``loads_exact`` instead:
  numbers with a fraction or exponent, and whole numbers under a money key, become
  :class:`~decimal.Decimal` (other integers stay ``int``), so ``Job.model_validate(row)`` and the
  other generated models accept rows exactly. On the way in,
  ``to_json_value`` refuses a ``float`` for a money field (``money_fields()``).
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import httpx
from postgrest.types import CountMethod

from runtime._http import new_http_client
from runtime._lifecycle import LazyClient, resolve_options, run_health_check
from runtime.db._common import check_params, to_json_value
from runtime.db._options import DatabaseOptions
from runtime.db._query import Query
from runtime.db._requests import install_probe
from runtime.db._transaction import Transaction
from runtime.errors import DatabaseError, PipelineError, ValidationError
from runtime.logging import get_logger

if TYPE_CHECKING:
    from supabase import AsyncClient

__all__ = ["Database", "db"]

_logger = get_logger("runtime.database")

_DEFAULT_HEALTH_TIMEOUT_SECONDS: Final[float] = DatabaseOptions.model_fields[
    "health_check_timeout_seconds"
].default


def _new_http_client(options: DatabaseOptions) -> httpx.AsyncClient:
    return new_http_client(
        max_connections=options.max_connections,
        timeout_seconds=options.timeout_seconds,
        connect_timeout_seconds=options.connect_timeout_seconds,
        pool_timeout_seconds=options.pool_timeout_seconds,
    )


def _new_supabase_client(options: DatabaseOptions, http: httpx.AsyncClient) -> AsyncClient:
    """supabase-py's client over ``http``, its own retry loop off (ours is the only policy)."""
    from supabase import AsyncClient, AsyncClientOptions

    install_probe(http)
    return AsyncClient(
        options.url,
        options.service_key.get_secret_value(),
        AsyncClientOptions(
            httpx_client=http,
            postgrest_client_retry=False,
            auto_refresh_token=False,
            persist_session=False,
        ),
    )


class Database(LazyClient[DatabaseOptions]):
    """Supabase (PostgREST) database access with bounded connections and our error policy.

    Args:
        options: Connection and policy settings (:class:`~runtime.db.DatabaseOptions`), whole;
            the module-level :data:`db` reads them from :mod:`runtime.config` on first use
            (:meth:`DatabaseOptions.from_settings`).
        http_client: An ``httpx.AsyncClient`` to send requests with; the caller keeps ownership
            (:meth:`aclose` leaves it open) and its limits and timeouts apply. By default one is
            built with :func:`runtime._http.new_http_client` from ``options`` and closed by
            :meth:`aclose`.
        **fields: Or the options' fields as keywords (``Database(url=..., service_key=...)``).

    Raises:
        ConfigError: Both options and fields, ``options`` not a ``DatabaseOptions``, or an
            invalid, unknown or missing field.
    """

    def __init__(
        self,
        *,
        options: DatabaseOptions | None = None,
        http_client: httpx.AsyncClient | None = None,
        **fields: Any,
    ) -> None:
        options = resolve_options(DatabaseOptions, options, fields, client="Database")
        self._setup(options=options, factory=None, http_client=http_client)

    @classmethod
    def from_settings(cls, *, http_client: httpx.AsyncClient | None = None) -> Database:
        """Build a client from :mod:`runtime.config` now (the lazy :data:`db` does it later).

        Args:
            http_client: As for the constructor.

        Returns:
            A new client; ``async with`` it or call :meth:`aclose`.

        Raises:
            ConfigError: The settings are missing or invalid.
        """
        return cls(options=DatabaseOptions.from_settings(), http_client=http_client)

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
            options = self.options
            if self._http is None:
                self._http = _new_http_client(options)
                self._owns_http = True
            self._client = _new_supabase_client(options, self._http)
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
        arguments = check_params(name, params)
        response = await self.rpc(name, arguments, idempotent=idempotent, job_id=job_id).execute()
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


db: Database = Database.lazy(DatabaseOptions.from_settings)
"""The process-wide PostgREST client, built from :mod:`runtime.config` on first use."""
