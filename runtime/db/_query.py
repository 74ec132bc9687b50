"""The PostgREST query builder, wrapped so that ``execute()`` applies our policy.

:class:`Query` forwards every builder method of postgrest-py and sends the finished request
through :func:`runtime.db._requests.send` (deadline, safe retries, our errors, exact money).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from postgrest import AsyncRequestBuilder

from runtime.db._common import to_json_value
from runtime.db._requests import send
from runtime.db._transaction import ACTIVE_TRANSACTION
from runtime.errors import ValidationError

if TYPE_CHECKING:
    from runtime._lifecycle import LazyClient
    from runtime.db._options import DatabaseOptions

__all__ = ["Query"]

_READ_METHODS: Final = frozenset({"GET", "HEAD"})
_WRITE_METHODS: Final = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_VALUE_METHODS: Final = frozenset({"insert", "upsert", "update"})


def _is_builder(value: object) -> bool:
    return isinstance(value, AsyncRequestBuilder) or callable(getattr(value, "execute", None))


class Query:
    """A PostgREST request builder whose ``execute()`` applies our retry and error policy.

    Every builder method of postgrest-py is available (``select``, ``insert``, ``eq``,
    ``order``, ``limit``, ``single``...); each returns a :class:`Query` again. Values given to
    ``insert``, ``upsert`` and ``update`` go through :func:`~runtime.db._common.to_json_value`,
    so ``UUID``, ``Decimal`` and ``datetime`` values are sent exactly.

    Args:
        client: The ``Database`` the query belongs to (its options apply when it is sent).
        builder: postgrest-py's request builder.
        is_rpc: Whether the request calls a SQL function.
        idempotent: Whether the function call has the same effect when made twice.
        job_id: The job the query belongs to, attached to errors and logs.
    """

    __slots__ = ("_builder", "_client", "_idempotent", "_is_rpc", "_job_id")

    def __init__(
        self,
        client: LazyClient[DatabaseOptions],
        builder: Any,
        *,
        is_rpc: bool = False,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> None:
        self._client = client
        self._builder = builder
        self._is_rpc = is_rpc
        self._idempotent = idempotent
        self._job_id = job_id

    def _wrap(self, builder: Any) -> Query:
        return Query(
            self._client,
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
        if not self._is_rpc and method in _WRITE_METHODS and ACTIVE_TRANSACTION.get() is not None:
            raise ValidationError(
                "db.table(...) writes inside `async with db.transaction()` are not part of the "
                "transaction; queue them with tx.table(...) instead"
            )
        idempotent = method in _READ_METHODS or (self._is_rpc and self._idempotent)
        return await send(
            self._builder.execute,
            options=self._client.options,
            idempotent=idempotent,
            job_id=self._job_id,
        )
