"""Retry with exponential backoff for sync and async callables: tenacity, configured once.

Usage::

    from runtime.retry import retry_with_backoff

    @retry_with_backoff(max_attempts=3, base_delay=2)
    async def call_openai_api() -> Response:
        ...  # retried when it raises an error whose ``retryable`` is true

The delay before retry ``n`` (``n`` = 0 for the first retry) is ``base_delay * 2 ** n``: 2 s, 4 s,
8 s... capped at ``max_delay`` (30 s by default), with optional random jitter.

Whether a failure is retried has one source of truth, :func:`is_retryable`, which every retry
path of this library reads (this decorator, the database, cache and storage clients): the
``retryable`` flag of the error instance (a ``ServiceUnavailableError(retryable=False)``, a write
that may already have been applied, is never retried, whatever ``retry_on`` says), or for errors
that are not ours, a true ``retryable`` attribute or a type listed in ``retry_on``.
Everything else propagates at once. After the last attempt the last exception is raised
unchanged (not wrapped in tenacity's ``RetryError``). Each retry is logged at ``WARNING`` with
the function, attempt, delay, error and job id; giving up is logged too.

:func:`runtime.testing.set_testing` makes every wait zero (the attempt count is kept), so test
suites never sleep.

tenacity's own pieces do the work (``stop_after_attempt | stop_before_delay``,
``retry_if_exception``, ``before_sleep`` and ``retry_error_callback`` for the two log lines);
this module adds the classification, the delay formula, the bounds and the testing switch.
stamina was considered and not used: its jitter is added seconds rather than a fraction, its
``timeout`` lets a retry start past the deadline, it has no give-up hook, and its logging hooks
are process-wide.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar

import tenacity

from runtime._bounds import DECORATOR_MAX_ATTEMPTS, DECORATOR_MAX_DELAY_SECONDS
from runtime.errors import InvalidOptionError, InvalidOptionTypeError, PipelineError

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

MAX_ATTEMPTS_LIMIT: Final = DECORATOR_MAX_ATTEMPTS
MAX_DELAY_LIMIT_SECONDS: Final = DECORATOR_MAX_DELAY_SECONDS
DEFAULT_MAX_DELAY_SECONDS: Final = 30.0

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


def _seconds(name: str, value: object, high: float, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOptionTypeError(f"{name} must be a number, got {type(value).__name__}")
    if value < 0 or (value == 0 and not zero_ok) or value > high:
        raise InvalidOptionError(
            f"{name} must be in {'[' if zero_ok else '('}0, {high}], got {value}"
        )
    return float(value)


def _log(state: tenacity.RetryCallState, message: str, *args: Any, **fields: Any) -> None:
    """Log a retry or the give-up with the error and the job id (the error's, else the argument)."""
    from runtime.logging import get_logger  # on the first retry: importing retry stays cheap

    exc = state.outcome.exception() if state.outcome is not None else None
    fields.update(error_type=type(exc).__name__, error=str(exc))
    job_id = exc.job_id if isinstance(exc, PipelineError) else None
    if (job_id := job_id if job_id is not None else state.kwargs.get("job_id")) is not None:
        fields["job_id"] = job_id
    get_logger("runtime.retry").warning(message, *args, extra=fields)


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
    base = _seconds("base_delay", base_delay, MAX_DELAY_LIMIT_SECONDS, zero_ok=True)
    cap = _seconds("max_delay", max_delay, MAX_DELAY_LIMIT_SECONDS)
    if base > cap:
        raise InvalidOptionError(
            f"base_delay ({base:g} s) must not exceed max_delay ({cap:g} s): every delay would "
            "be max_delay"
        )
    spread = _seconds("jitter", jitter, 1.0, zero_ok=True)
    stop: tenacity.stop.stop_base = tenacity.stop_after_attempt(max_attempts)
    if deadline_seconds is not None:
        budget = _seconds("deadline_seconds", deadline_seconds, MAX_DELAY_LIMIT_SECONDS)
        stop = stop | tenacity.stop_before_delay(budget)
    extra = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if not all(isinstance(t, type) and issubclass(t, Exception) for t in extra):
        raise InvalidOptionTypeError(f"retry_on must hold Exception subclasses, got {retry_on!r}")

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise InvalidOptionTypeError(f"cannot retry generator function {func.__qualname__}")
        name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"

        def before_sleep(state: tenacity.RetryCallState) -> None:
            delay, attempt = state.upcoming_sleep, state.attempt_number
            error = type(state.outcome.exception() if state.outcome else None).__name__
            _log(
                state,
                "Retrying %s in %.2fs after attempt %d/%d failed: %s",
                *(name, delay, attempt, max_attempts, error),
                function=name,
                attempt=attempt,
                max_attempts=max_attempts,
                delay_seconds=round(delay, 3),
            )

        def give_up(state: tenacity.RetryCallState) -> Any:
            if max_attempts > 1:
                attempts = state.attempt_number
                _log(
                    state,
                    "Giving up on %s after %d attempts",
                    name,
                    attempts,
                    function=name,
                    attempts=attempts,
                )
            return state.outcome.result() if state.outcome is not None else None  # raises

        options: dict[str, Any] = {
            "stop": stop,
            "wait": lambda s: backoff_delay(
                s.attempt_number - 1, base_delay=base, max_delay=cap, jitter=spread
            ),
            "retry": tenacity.retry_if_exception(lambda exc: is_retryable(exc, extra)),
            "before_sleep": before_sleep,
            "retry_error_callback": give_up,
        }
        call = getattr(type(func), "__call__", None)  # noqa: B004 (an async __call__ counts)
        if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call):

            async def sleep(seconds: float) -> None:
                await asyncio.sleep(0 if _testing else seconds)

            return tenacity.AsyncRetrying(sleep=sleep, **options).wraps(func)
        retrying = tenacity.Retrying(sleep=lambda s: None if _testing else time.sleep(s), **options)
        wrapped = retrying.wraps(func)

        @functools.wraps(func)
        def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            result = wrapped(*args, **kwargs)
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
