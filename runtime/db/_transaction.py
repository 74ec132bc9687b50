"""All-or-nothing batches of writes, applied by the SQL function ``apply_batch`` on either path.

``async with db.transaction() as tx`` (or ``pg.transaction()``) queues writes built with
``tx.table(name)`` and sends them in one call of ``apply_batch`` (``sql/handwritten/020_batch.sql``)
when the block ends: one database transaction, all or nothing. Nothing is sent if the block
raises. The batch goes through the client's ``call_function`` (:class:`FunctionCaller`), so it
runs unchanged over PostgREST and over a direct connection; no backend library is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, Literal, Self
from uuid import UUID

from runtime.db._common import FunctionCaller, to_json_value
from runtime.errors import DatabaseError, ValidationError

__all__ = [
    "ACTIVE_TRANSACTION",
    "MAX_BATCH_OPERATIONS",
    "PendingWrite",
    "TableWriter",
    "Transaction",
]

MAX_BATCH_OPERATIONS: Final = 1000
"""Most operations one transaction may hold (the SQL function enforces the same bound)."""


ACTIVE_TRANSACTION: ContextVar[Transaction | None] = ContextVar(
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
        if ACTIVE_TRANSACTION.get() is not None:
            raise ValidationError("transactions do not nest; queue every write on the outer one")
        self._token = ACTIVE_TRANSACTION.set(self)
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ACTIVE_TRANSACTION.reset(self._token)
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
