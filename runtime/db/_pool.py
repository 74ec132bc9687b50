"""Private plumbing of the direct PostgreSQL path (pool, connection check, watchdog, statement).

A pool whose reconnect backoff is capped, a connection check that costs no round trip, a watchdog
that bounds a call in flight, and the one statement a call sends.

What psycopg_pool does not do, and this adds:

* **Capped reconnect backoff.** ``AsyncConnectionPool`` retries a failed connection attempt
  after 1 s, then 2 s, 4 s... until ``reconnect_timeout`` (5 min): after a 20 s outage the pool
  could wait 16 s more before its next attempt. :class:`CappedPool` starts at
  :data:`RECONNECT_INITIAL_DELAY_SECONDS` and never waits more than ``reconnect_max_delay``
  between attempts, so a call succeeds within about that delay (plus one connect) of the server
  coming back.
* **A check with no round trip.** :func:`acquire` hands out a pooled connection after a
  zero-timeout ``select`` on its socket: an idle connection has nothing to read unless the
  server closed it or terminated its backend (or sent a notice), so a readable socket is checked
  for real (one empty query) and a broken connection is closed and replaced, without the pool's
  own check-failure backoff (which also starts at 1 s).
* **A hard bound on a call in flight.** :class:`Watchdog` shuts the connection's socket down at
  the call's deadline, so a frozen or vanished server makes the read fail at once instead of
  waiting for TCP to notice (or for psycopg's cancellation, which may wait 10 s).
* **No session state.** :func:`with_timeout` and :func:`select_call` build
  ``SET LOCAL statement_timeout = ...; SELECT to_jsonb(public.<fn>(...))``: one simple-protocol
  round trip (client-side binding), the timeout scoped to that implicit transaction, nothing left
  on the connection. This is what a
  transaction-mode pooler (PgBouncer, Supavisor) needs: no startup ``options``, no session
  ``SET``, no server-side prepared statement.
"""

from __future__ import annotations

import asyncio
import functools
import os
import select
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

__all__ = [
    "RECONNECT_INITIAL_DELAY_SECONDS",
    "CappedPool",
    "Watchdog",
    "acquire",
    "checkout",
    "select_call",
    "watchdog",
    "with_timeout",
]

RECONNECT_INITIAL_DELAY_SECONDS: Final = 0.05
"""First wait after a failed connection attempt (psycopg_pool's own: 1 s)."""

AsyncConn = psycopg.AsyncConnection[Any]


class _CappedBackoff(AttemptWithBackoff):
    """psycopg_pool's reconnect schedule, starting small and never above ``max_delay``."""

    INITIAL_DELAY = RECONNECT_INITIAL_DELAY_SECONDS
    max_delay = 0.25

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, self.max_delay)


class CappedPool(AsyncConnectionPool[AsyncConn]):
    """``AsyncConnectionPool`` whose reconnect backoff is capped at ``reconnect_max_delay``.

    Args:
        *args: As for ``AsyncConnectionPool``.
        reconnect_max_delay: The longest wait between two connection attempts, in seconds.
        **kwargs: As for ``AsyncConnectionPool``.
    """

    def __init__(self, *args: Any, reconnect_max_delay: float = 0.25, **kwargs: Any) -> None:
        self._backoff = type("_Backoff", (_CappedBackoff,), {"max_delay": reconnect_max_delay})
        super().__init__(*args, **kwargs)

    async def _add_connection(
        self, attempt: AttemptWithBackoff | None, growing: bool = False
    ) -> None:
        if attempt is None:
            attempt = self._backoff(timeout=self.reconnect_timeout)
        await super()._add_connection(attempt, growing=growing)


def _socket_readable(conn: AsyncConn) -> bool:
    try:
        fd = conn.pgconn.socket
    except psycopg.OperationalError:
        return True
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


async def _usable(conn: AsyncConn, seconds: float) -> bool:
    """Whether a pooled connection can take a statement (a round trip only when in doubt).

    The round trip is bounded by ``seconds`` (the watchdog cuts a connection that hangs).
    """
    if conn.closed or conn.broken:
        return False
    if not _socket_readable(conn):
        return True
    try:
        async with watchdog(conn, seconds):
            await AsyncConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True


async def acquire(pool: AsyncConnectionPool[AsyncConn], wait_seconds: float) -> AsyncConn:
    """Borrow a usable connection, discarding (and replacing) broken ones.

    Give it back with ``pool.putconn``.

    Args:
        pool: The pool.
        wait_seconds: Seconds to wait for a connection in all; each connection is checked
            first (see :func:`_usable`).

    Returns:
        A connection believed usable.

    Raises:
        psycopg_pool.PoolTimeout: None within ``wait_seconds``.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_seconds
    while True:
        conn = await pool.getconn(timeout=max(0.001, end - loop.time()))
        if await _usable(conn, max(0.0, end - loop.time())):
            return conn
        with suppress(psycopg.Error):
            await conn.close()
        await pool.putconn(conn)  # a closed connection is dropped and replaced by the pool


@asynccontextmanager
async def checkout(
    pool: AsyncConnectionPool[AsyncConn], wait_seconds: float
) -> AsyncIterator[AsyncConn]:
    """:func:`acquire` as a context manager: the connection goes back to the pool on exit.

    Args:
        pool: The pool.
        wait_seconds: Seconds to wait for a connection in all.

    Yields:
        A connection believed usable.
    """
    conn = await acquire(pool, wait_seconds)
    try:
        yield conn
    finally:
        await pool.putconn(conn)


def _shutdown(conn: AsyncConn) -> None:
    with suppress(OSError, psycopg.Error):
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()


class Watchdog:
    """Shuts ``conn``'s socket down at loop time ``when`` unless cancelled first.

    The pending read then fails at once (``OperationalError``) and the pool replaces the
    connection. Armed on construction; :meth:`cancel` disarms it.

    Args:
        conn: The connection in use.
        when: The event loop time (``loop.time()``) at which to fire.
    """

    __slots__ = ("_conn", "_handle", "fired")

    def __init__(self, conn: AsyncConn, when: float) -> None:
        self._conn = conn
        self.fired = False
        self._handle = asyncio.get_running_loop().call_at(when, self._fire)

    def _fire(self) -> None:
        self.fired = True
        _shutdown(self._conn)

    def cancel(self) -> None:
        """Disarm the watchdog (the block finished in time)."""
        self._handle.cancel()


@asynccontextmanager
async def watchdog(conn: AsyncConn, seconds: float) -> AsyncIterator[Watchdog]:
    """Shut ``conn``'s socket down if the block is still running after ``seconds``.

    Args:
        conn: The connection in use.
        seconds: Time allowed.

    Yields:
        The :class:`Watchdog`; its ``fired`` is true once it has fired.
    """
    dog = Watchdog(conn, asyncio.get_running_loop().time() + max(0.0, seconds))
    try:
        yield dog
    finally:
        dog.cancel()


@functools.lru_cache(maxsize=512)
def select_call(name: str, params: tuple[str, ...]) -> bytes:
    """The ``SELECT to_jsonb(public.<fn>(p_a => %(p_a)s, ...))`` of one call (cached).

    Built once per function and parameter names: composing and quoting the identifiers on every
    call cost more than the rest of the client side together.

    Args:
        name: The function in schema ``public`` (already checked).
        params: Named arguments' names (already checked); values are bound client-side.

    Returns:
        The statement text, with one ``%(name)s`` placeholder per parameter.
    """
    return (
        sql.SQL("SELECT to_jsonb({fn}({args}))")
        .format(
            fn=sql.Identifier("public", name),
            args=sql.SQL(", ").join(
                sql.SQL("{} => {}").format(sql.Identifier(key), sql.Placeholder(key))
                for key in params
            ),
        )
        .as_bytes(None)
    )


def with_timeout(select: bytes, statement_timeout_ms: int) -> bytes:
    """``SET LOCAL statement_timeout = ...;`` in front of a call's ``SELECT``.

    Args:
        select: The call, from :func:`select_call`.
        statement_timeout_ms: The server-side limit for this statement.

    Returns:
        The statement text: one simple-protocol message, one implicit transaction.
    """
    return b"SET LOCAL statement_timeout = %d; " % max(1, int(statement_timeout_ms)) + select
