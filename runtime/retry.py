"""Retry with exponential backoff for sync and async callables, built on tenacity.

Usage::

    from runtime.retry import retry_with_backoff

    @retry_with_backoff(max_attempts=3, base_delay=2)
    async def call_openai_api() -> Response:
        ...  # retried when it raises an error whose ``retryable`` is true

The delay before retry ``n`` (``n`` = 0 for the first retry) is ``base_delay * 2 ** n``: 2 s, 4 s,
8 s... capped at ``max_delay`` (30 s by default), with optional random jitter.

Whether a failure is retried has one source of truth, :func:`is_retryable`, which every retry
path of this library reads (this decorator, the database, cache and storage clients):

* a :class:`runtime.errors.PipelineError` is retried if and only if its ``retryable`` attribute
  is true. The attribute is set at construction from the class default (true for
  ``RetryableError`` and ``ServiceUnavailableError``) unless the raiser decided otherwise: a
  ``ServiceUnavailableError(retryable=False)`` (a write that may already have been applied) is
  never retried, whatever ``retry_on`` says;
* any other exception whose ``retryable`` attribute is ``True``;
* instances of the exception types given in ``retry_on`` (for exceptions that are not ours).

Everything else propagates at once. After the last attempt the last exception is raised
unchanged (not wrapped in tenacity's ``RetryError``). Each retry is logged at ``WARNING`` with
the function, attempt, delay, error and job id; giving up is logged too.

:func:`runtime.testing.set_testing` makes every wait zero (the attempt count is kept), so test
suites never sleep.

tenacity does the attempt loop, stop and wait bookkeeping; this module adds the classification,
the bounds, the logging and the testing switch.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, ParamSpec, TypeVar

import tenacity

from runtime.errors import InvalidOptionError, InvalidOptionTypeError, PipelineError
from runtime.logging import get_logger

__all__ = [
    "DEFAULT_MAX_DELAY_SECONDS",
    "MAX_ATTEMPTS_LIMIT",
    "MAX_DELAY_LIMIT_SECONDS",
    "backoff_delay",
    "is_retryable",
    "retry_with_backoff",
]

P = ParamSpec("P")
R = TypeVar("R")

MAX_ATTEMPTS_LIMIT: Final = 20
MAX_DELAY_LIMIT_SECONDS: Final = 3600.0
DEFAULT_MAX_DELAY_SECONDS: Final = 30.0

_logger = get_logger("runtime.retry")
_testing = False


def _set_testing(enabled: bool) -> None:
    global _testing
    _testing = enabled


def _is_testing() -> bool:
    return _testing


def is_retryable(exc: BaseException, retry_on: tuple[type[Exception], ...] = ()) -> bool:
    """Decide whether ``exc`` may succeed if the operation is repeated.

    Args:
        exc: The exception raised by an attempt.
        retry_on: Extra exception types the caller wants retried.

    Returns:
        For a :class:`PipelineError`, its ``retryable`` attribute, and nothing else (a write of
        unknown outcome raised with ``retryable=False`` is never retried, even if its type is
        listed in ``retry_on``). For another exception, ``True`` if its ``retryable`` attribute
        is ``True`` or it is an instance of one of ``retry_on``. ``False`` for
        ``asyncio.CancelledError``, ``KeyboardInterrupt`` and other non-``Exception`` errors.
    """
    if not isinstance(exc, Exception):
        return False
    if isinstance(exc, PipelineError):
        return exc.retryable is True
    if getattr(exc, "retryable", False) is True:
        return True
    return bool(retry_on) and isinstance(exc, retry_on)


def backoff_delay(
    retry_number: int,
    *,
    base_delay: float,
    max_delay: float = DEFAULT_MAX_DELAY_SECONDS,
    jitter: float = 0.0,
) -> float:
    """Return the seconds to wait before a retry.

    Args:
        retry_number: 0 for the first retry, 1 for the second...
        base_delay: Seconds before the first retry.
        max_delay: Upper bound on any delay, jitter included.
        jitter: Fraction of the delay added at random (0.25 adds up to 25 %).

    Returns:
        ``min(max_delay, base_delay * 2 ** retry_number * (1 + U(0, jitter)))``.
    """
    exponent = min(retry_number, 64)  # 2**64 * anything positive is past every bound
    delay = base_delay * (2.0**exponent)
    if jitter:
        delay *= 1.0 + random.uniform(0.0, jitter)
    return min(max_delay, delay)


def _check_number(name: str, value: object, low: float, high: float, *, low_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOptionTypeError(
            f"{name} must be a number of seconds, got {type(value).__name__}"
        )
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = "(" if low_open else "["
        raise InvalidOptionError(f"{name} must be in {bound}{low}, {high}], got {value}")
    return float(value)


def _normalise_retry_on(
    retry_on: type[Exception] | tuple[type[Exception], ...],
) -> tuple[type[Exception], ...]:
    types = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    for item in types:
        if not (isinstance(item, type) and issubclass(item, Exception)):
            raise InvalidOptionTypeError(f"retry_on must hold Exception subclasses, got {item!r}")
    return types


def _job_id_for(exc: BaseException | None, kwargs: dict[str, Any]) -> Any:
    if isinstance(exc, PipelineError) and exc.job_id is not None:
        return exc.job_id
    return kwargs.get("job_id")


def retry_with_backoff(
    max_attempts: int = 3,
    base_delay: float = 2.0,
    *,
    max_delay: float = DEFAULT_MAX_DELAY_SECONDS,
    jitter: float = 0.0,
    retry_on: type[Exception] | tuple[type[Exception], ...] = (),
    deadline_seconds: float | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Retry a sync or async callable with exponential backoff.

    Args:
        max_attempts: Total attempts including the first, 1 to 20 (1 means no retry).
        base_delay: Seconds before the first retry (0 to 3600); doubles for each further retry.
        max_delay: Upper bound in seconds on a single delay (above 0, at most 3600; default 30).
        jitter: Fraction of each delay added at random, 0 to 1 (default 0: deterministic).
        retry_on: Exception types (not ours) to retry in addition to retryable errors; a
            :class:`PipelineError` is decided by its ``retryable`` flag alone.
        deadline_seconds: A total time budget for the call, attempts and delays included
            (above 0, at most 3600; default ``None``: attempts alone bound it). No retry starts
            whose delay would end past the budget; the last error is raised instead. Each
            attempt should bound its own duration to what is left (the clients do).

    Returns:
        A decorator; the decorated callable keeps its signature (coroutine functions stay
        coroutine functions).

    Raises:
        TypeError: An argument has the wrong type, ``retry_on`` holds something that is not an
            ``Exception`` subclass, or the decorated object is a generator function (or the
            decorator was used without parentheses). The decorated plain function raises it
            when it returns a coroutine (its failures would escape the retries).
        ValueError: A bound is out of range, or ``base_delay`` exceeds ``max_delay``.
    """
    if callable(max_attempts) and not isinstance(max_attempts, int):
        raise InvalidOptionTypeError("use @retry_with_backoff() with parentheses")
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
        raise InvalidOptionTypeError(
            f"max_attempts must be an int, got {type(max_attempts).__name__}"
        )
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise InvalidOptionError(
            f"max_attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}, got {max_attempts}"
        )
    base = _check_number("base_delay", base_delay, 0.0, MAX_DELAY_LIMIT_SECONDS, low_open=False)
    cap = _check_number("max_delay", max_delay, 0.0, MAX_DELAY_LIMIT_SECONDS, low_open=True)
    if base > cap:
        raise InvalidOptionError(
            f"base_delay ({base:g} s) must not exceed max_delay ({cap:g} s): every delay would "
            "be max_delay"
        )
    spread = _check_number("jitter", jitter, 0.0, 1.0, low_open=False)
    budget = (
        None
        if deadline_seconds is None
        else _check_number(
            "deadline_seconds", deadline_seconds, 0.0, MAX_DELAY_LIMIT_SECONDS, low_open=True
        )
    )
    extra_types = _normalise_retry_on(retry_on)

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise InvalidOptionTypeError(f"cannot retry generator function {func.__qualname__}")
        name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"

        def wait(state: tenacity.RetryCallState) -> float:
            return backoff_delay(
                state.attempt_number - 1, base_delay=base, max_delay=cap, jitter=spread
            )

        def should_retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None or not outcome.failed:
                return False
            exc = outcome.exception()
            return exc is not None and is_retryable(exc, extra_types)

        def out_of_time(state: tenacity.RetryCallState) -> bool:
            if budget is None:
                return False
            return (state.seconds_since_start or 0.0) + state.upcoming_sleep >= budget

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number < max_attempts and not out_of_time(state):
                return False
            if max_attempts > 1:
                exc = state.outcome.exception() if state.outcome is not None else None
                fields: dict[str, Any] = {
                    "function": name,
                    "attempts": state.attempt_number,
                    "error_type": type(exc).__name__,
                    "error": str(exc),
                }
                job_id = _job_id_for(exc, state.kwargs)
                if job_id is not None:
                    fields["job_id"] = job_id
                _logger.warning(
                    "Giving up on %s after %d attempts", name, state.attempt_number, extra=fields
                )
            return True

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            delay = state.upcoming_sleep
            fields: dict[str, Any] = {
                "function": name,
                "attempt": state.attempt_number,
                "max_attempts": max_attempts,
                "delay_seconds": round(delay, 3),
                "error_type": type(exc).__name__,
                "error": str(exc),
            }
            job_id = _job_id_for(exc, state.kwargs)
            if job_id is not None:
                fields["job_id"] = job_id
            _logger.warning(
                "Retrying %s in %.2fs after attempt %d/%d failed: %s",
                name,
                delay,
                state.attempt_number,
                max_attempts,
                type(exc).__name__,
                extra=fields,
            )

        common: dict[str, Any] = {
            "stop": stop,
            "wait": wait,
            "retry": should_retry,
            "before_sleep": before_sleep,
            "reraise": True,
        }

        call_method = getattr(type(func), "__call__", None)  # noqa: B004 (the method itself)
        if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call_method):

            async def async_sleep(seconds: float) -> None:
                await asyncio.sleep(0 if _testing else seconds)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                retrying = tenacity.AsyncRetrying(sleep=async_sleep, **common)
                coroutine_function: Callable[..., Awaitable[Any]] = func  # type: ignore[assignment]
                return await retrying(coroutine_function, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        def sync_sleep(seconds: float) -> None:
            if not _testing and seconds > 0:
                time.sleep(seconds)

        @functools.wraps(func)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            retrying = tenacity.Retrying(sleep=sync_sleep, **common)
            result = retrying(func, *args, **kwargs)
            if inspect.iscoroutine(result):
                # A plain function (a lambda, say) that returns a coroutine: its failures would
                # surface only when awaited, outside the retry loop. Refuse rather than mislead.
                result.close()
                raise InvalidOptionTypeError(
                    f"{name} returned a coroutine: retry an async def function (or an object "
                    "with an async __call__) so that each attempt is awaited"
                )
            return result

        return sync_wrapper

    return decorator
