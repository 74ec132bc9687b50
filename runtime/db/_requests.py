"""Sending one PostgREST request under our policy: deadline, safe retries, our errors, exact money.

:func:`send` is what every ``execute()`` of the PostgREST path goes through. It runs the request
within the call deadline, retries it only where :func:`repeat_is_safe` says repeating cannot
apply a write twice, translates failures into :mod:`runtime.errors` (keeping the HTTP status,
which postgrest-py's ``APIError`` drops: a response hook records it) and re-decodes a successful
body with :func:`~runtime.db._common.loads_exact`, so money arrives as ``Decimal``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import httpx
from postgrest import APIResponse
from postgrest.exceptions import APIError

from runtime.db._common import loads_exact
from runtime.db._retries import deadline_error, mark_retryable, with_retries
from runtime.error_mapping import translate_exception
from runtime.errors import PipelineError

if TYPE_CHECKING:
    from runtime.db._options import DatabaseOptions

__all__ = ["install_probe", "repeat_is_safe", "send"]

_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# PostgREST could not get a database connection: the request never ran.
_NOT_EXECUTED_CODES: Final = frozenset({"PGRST000", "PGRST001", "PGRST002", "PGRST003"})
# The transaction was rolled back by the server: repeating it cannot apply anything twice.
_ROLLED_BACK_CODES: Final = frozenset({"40001", "40P01"})
_GATEWAY_STATUSES: Final = frozenset({502, 503, 504})
_GATEWAY_CODES: Final = frozenset({"502", "503", "504"})


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


def install_probe(client: httpx.AsyncClient) -> None:
    """Add the response hook that records each response's status for :func:`send` (once).

    Args:
        client: The httpx client the PostgREST requests go through.
    """
    hooks = client.event_hooks["response"]
    if _record_status not in hooks:
        hooks.append(_record_status)


def _with_exact_numbers(result: Any, response: httpx.Response | None) -> Any:
    """Re-decode a successful response's body with ``loads_exact`` (Decimal, not float).

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


def _translate(
    exc: Exception, *, status: int | None, idempotent: bool, job_id: UUID | None
) -> PipelineError:
    upstream: Exception = exc
    if isinstance(exc, APIError) and exc.code is None and status is not None:
        # A gateway's JSON error without a code: let the mapping see the HTTP status.
        upstream = APIError({**exc.json(), "code": str(status)})
    error = translate_exception(upstream, service="database", job_id=job_id)
    error.__cause__ = exc
    if getattr(error, "status_code", 0) is None and status is not None:
        error.status_code = status  # type: ignore[attr-defined]
    return mark_retryable(error, safe=repeat_is_safe(exc, status=status, idempotent=idempotent))


async def send(
    request: Callable[[], Awaitable[Any]],
    *,
    options: DatabaseOptions,
    idempotent: bool,
    job_id: UUID | None,
) -> Any:
    """Send a PostgREST request within the call deadline, retrying only where that is safe.

    Args:
        request: postgrest-py's ``execute`` of the built request (called once per attempt).
        options: The client's options (deadline, attempts, backoff).
        idempotent: Whether sending twice has the effect of sending once.
        job_id: The job the request belongs to, for errors and logs.

    Returns:
        postgrest-py's response, its body decoded exactly.

    Raises:
        ServiceUnavailableError: The deadline was spent (``code="deadline_exceeded"``).
        PipelineError: The request failed (see :mod:`runtime.error_mapping`).
    """
    budget = options.call_deadline_seconds
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget

    async def attempt() -> Any:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise deadline_error(budget, sent=False, idempotent=idempotent, job_id=job_id)
        probe = _StatusProbe()
        token = _PROBE.set(probe)
        try:
            async with asyncio.timeout(remaining):
                result = await request()
        except TimeoutError as exc:
            raise deadline_error(budget, sent=True, idempotent=idempotent, job_id=job_id) from exc
        except Exception as exc:
            raise _translate(
                exc, status=probe.status, idempotent=idempotent, job_id=job_id
            ) from exc
        finally:
            _PROBE.reset(token)
        return _with_exact_numbers(result, probe.response)

    return await with_retries(
        attempt,
        max_attempts=options.max_attempts,
        base_delay_seconds=options.retry_base_delay_seconds,
        max_delay_seconds=options.retry_max_delay_seconds,
        deadline_seconds=budget,
    )
