"""retry_with_backoff: attempts, classification, delays, logging, bounds; never sleeps for real.

tests/runtime/conftest.py turns testing mode on for every test, so the computed delays are
logged but not slept.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from typing import Any

import pytest

from runtime.errors import (
    ConflictError,
    GenerationError,
    PipelineError,
    RetryableError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.logging import log_context
from runtime.retry import (
    MAX_ATTEMPTS_LIMIT,
    backoff_delay,
    is_retryable,
    retry_with_backoff,
)
from runtime.testing import capture_logs, is_testing, set_testing

JOB_ID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")


class Flaky:
    """Fails with the given errors in turn, then returns ``"ok"``; counts calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.raised: list[BaseException] = []

    def step(self) -> str:
        self.calls += 1
        if self.errors:
            error = self.errors.pop(0)
            self.raised.append(error)
            raise error
        return "ok"


def retry_logs(logs: Any) -> list[dict[str, Any]]:
    return [r for r in logs if r["message"].startswith("Retrying")]


# ---------------------------------------------------------------------------------------------
# Attempts and results
# ---------------------------------------------------------------------------------------------


async def test_async_call_is_retried_until_it_succeeds() -> None:
    flaky = Flaky(RetryableError("a"), RetryableError("b"))

    @retry_with_backoff(max_attempts=3, base_delay=2)
    async def call() -> str:
        return flaky.step()

    assert await call() == "ok"
    assert flaky.calls == 3


def test_sync_call_is_retried_until_it_succeeds() -> None:
    flaky = Flaky(RetryableError("a"))

    @retry_with_backoff(max_attempts=3)
    def call() -> str:
        return flaky.step()

    assert call() == "ok"
    assert flaky.calls == 2


async def test_async_call_makes_exactly_max_attempts_then_raises_the_last_error_unchanged() -> None:
    flaky = Flaky(*(ServiceUnavailableError(f"down {i}") for i in range(10)))

    @retry_with_backoff(max_attempts=4)
    async def call() -> str:
        return flaky.step()

    with pytest.raises(ServiceUnavailableError) as info:
        await call()
    assert flaky.calls == 4
    assert info.value is flaky.raised[-1]
    assert info.value.message == "down 3"


def test_sync_call_makes_exactly_max_attempts_then_raises_the_last_error_unchanged() -> None:
    flaky = Flaky(*(RetryableError(f"e{i}") for i in range(5)))

    @retry_with_backoff(max_attempts=3)
    def call() -> str:
        return flaky.step()

    with pytest.raises(RetryableError) as info:
        call()
    assert flaky.calls == 3
    assert info.value is flaky.raised[-1]


def test_one_attempt_means_no_retry() -> None:
    flaky = Flaky(RetryableError("once"))

    @retry_with_backoff(max_attempts=1)
    def call() -> str:
        return flaky.step()

    with capture_logs() as logs, pytest.raises(RetryableError):
        call()
    assert flaky.calls == 1
    assert len(logs) == 0


def test_arguments_and_return_value_pass_through() -> None:
    @retry_with_backoff()
    def add(a: int, *, b: int) -> int:
        return a + b

    assert add(2, b=3) == 5


# ---------------------------------------------------------------------------------------------
# What is retried
# ---------------------------------------------------------------------------------------------


def test_non_retryable_error_is_raised_at_once() -> None:
    flaky = Flaky(ValidationError("bad input"))

    @retry_with_backoff(max_attempts=5)
    def call() -> str:
        return flaky.step()

    with pytest.raises(ValidationError):
        call()
    assert flaky.calls == 1


def test_error_with_retryable_flag_set_is_retried() -> None:
    flaky = Flaky(ConflictError("lost a race", retryable=True))

    @retry_with_backoff(max_attempts=2)
    def call() -> str:
        return flaky.step()

    assert call() == "ok"
    assert flaky.calls == 2


def test_foreign_error_with_retryable_attribute_is_retried() -> None:
    class Transient(Exception):
        retryable = True

    flaky = Flaky(Transient())

    @retry_with_backoff(max_attempts=2)
    def call() -> str:
        return flaky.step()

    assert call() == "ok"


def test_listed_exception_types_are_retried() -> None:
    flaky = Flaky(ConnectionResetError("reset"), TimeoutError("slow"))

    @retry_with_backoff(max_attempts=3, retry_on=(ConnectionResetError, TimeoutError))
    def call() -> str:
        return flaky.step()

    assert call() == "ok"
    assert flaky.calls == 3


def test_a_single_listed_type_is_accepted() -> None:
    flaky = Flaky(KeyError("k"))

    @retry_with_backoff(max_attempts=2, retry_on=KeyError)
    def call() -> str:
        return flaky.step()

    assert call() == "ok"


def test_unlisted_plain_exception_is_not_retried() -> None:
    flaky = Flaky(KeyError("k"))

    @retry_with_backoff(max_attempts=3, retry_on=(TimeoutError,))
    def call() -> str:
        return flaky.step()

    with pytest.raises(KeyError):
        call()
    assert flaky.calls == 1


async def test_cancellation_is_never_retried() -> None:
    flaky = Flaky(asyncio.CancelledError())

    @retry_with_backoff(max_attempts=3, retry_on=(Exception,))
    async def call() -> str:
        return flaky.step()

    with pytest.raises(asyncio.CancelledError):
        await call()
    assert flaky.calls == 1


def test_a_transient_error_marked_not_retryable_is_not_retried() -> None:
    flaky = Flaky(ServiceUnavailableError("reply lost after commit", retryable=False))

    @retry_with_backoff(max_attempts=3)
    def call() -> str:
        return flaky.step()

    with pytest.raises(ServiceUnavailableError):
        call()
    assert flaky.calls == 1


def test_retry_on_does_not_override_a_pipeline_errors_flag() -> None:
    flaky = Flaky(ServiceUnavailableError("outcome unknown", retryable=False))

    @retry_with_backoff(max_attempts=3, retry_on=(ServiceUnavailableError, Exception))
    def call() -> str:
        return flaky.step()

    with pytest.raises(ServiceUnavailableError):
        call()
    assert flaky.calls == 1


def test_is_retryable_reads_the_instance_flag_of_our_errors() -> None:
    assert not is_retryable(ServiceUnavailableError("x", retryable=False))
    assert not is_retryable(RetryableError("x", retryable=False))
    assert is_retryable(GenerationError("rate limited", retryable=True))


def test_deadline_stops_retries_whose_delay_would_pass_it() -> None:
    flaky = Flaky(*(RetryableError("x") for _ in range(5)))

    @retry_with_backoff(max_attempts=10, base_delay=0.2, max_delay=0.2, deadline_seconds=0.3)
    def call() -> str:
        return flaky.step()

    with set_testing(False), pytest.raises(RetryableError):
        call()
    assert flaky.calls == 2  # 0.2 s after the first; a third would end at 0.4 s > 0.3 s


@pytest.mark.parametrize("deadline", [0, -1, 3601, "5"])
def test_deadline_must_be_a_positive_number(deadline: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        retry_with_backoff(deadline_seconds=deadline)


def test_is_retryable_classifies_errors() -> None:
    assert is_retryable(RetryableError("x"))
    assert is_retryable(ServiceUnavailableError("x"))
    assert is_retryable(PipelineError("x", retryable=True))
    assert not is_retryable(PipelineError("x"))
    assert not is_retryable(ValueError("x"))
    assert is_retryable(ValueError("x"), (ValueError,))
    assert not is_retryable(KeyboardInterrupt())


# ---------------------------------------------------------------------------------------------
# Delays
# ---------------------------------------------------------------------------------------------


def test_backoff_delays_double_from_base_delay() -> None:
    assert [backoff_delay(n, base_delay=2) for n in range(3)] == [2.0, 4.0, 8.0]


def test_backoff_delay_is_capped_by_max_delay() -> None:
    assert backoff_delay(10, base_delay=2, max_delay=30) == 30.0
    assert backoff_delay(10_000, base_delay=2, max_delay=30) == 30.0


def test_jitter_adds_at_most_the_given_fraction() -> None:
    delays = [backoff_delay(1, base_delay=2, jitter=0.5) for _ in range(200)]
    assert all(4.0 <= d <= 6.0 for d in delays)
    assert len(set(delays)) > 1


def test_jitter_never_exceeds_max_delay() -> None:
    assert all(backoff_delay(3, base_delay=2, max_delay=9, jitter=1.0) <= 9 for _ in range(100))


def test_logged_delays_follow_the_exponential_schedule() -> None:
    flaky = Flaky(*(RetryableError("x") for _ in range(4)))

    @retry_with_backoff(max_attempts=5, base_delay=2)
    def call() -> str:
        return flaky.step()

    with capture_logs() as logs:
        call()
    assert [r["delay_seconds"] for r in retry_logs(logs)] == [2.0, 4.0, 8.0, 16.0]


def test_logged_delays_respect_max_delay() -> None:
    flaky = Flaky(*(RetryableError("x") for _ in range(3)))

    @retry_with_backoff(max_attempts=4, base_delay=10, max_delay=15)
    def call() -> str:
        return flaky.step()

    with capture_logs() as logs:
        call()
    assert [r["delay_seconds"] for r in retry_logs(logs)] == [10.0, 15.0, 15.0]


async def test_testing_mode_skips_long_waits_but_keeps_attempts() -> None:
    flaky = Flaky(RetryableError("x"), RetryableError("y"))

    @retry_with_backoff(max_attempts=3, base_delay=600, max_delay=3600)
    async def call() -> str:
        return flaky.step()

    started = time.monotonic()
    assert await call() == "ok"
    assert time.monotonic() - started < 5  # 600 s + 1200 s if the waits were real
    assert flaky.calls == 3


def test_set_testing_context_manager_restores_the_previous_mode() -> None:
    assert is_testing()
    with set_testing(False):
        assert not is_testing()
    assert is_testing()


def test_set_testing_rejects_non_bool() -> None:
    with pytest.raises(TypeError, match="bool"):
        set_testing(1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------


def test_each_retry_is_logged_with_function_attempt_delay_and_error() -> None:
    flaky = Flaky(ServiceUnavailableError("db down"), ServiceUnavailableError("db still down"))

    @retry_with_backoff(max_attempts=3)
    def fetch_job() -> str:
        return flaky.step()

    with capture_logs() as logs:
        fetch_job()
    first, second = retry_logs(logs)
    assert first["level"] == "WARNING"
    assert first["function"].endswith("fetch_job")
    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert first["max_attempts"] == 3
    assert first["delay_seconds"] == 2.0
    assert first["error_type"] == "ServiceUnavailableError"
    assert first["error"] == "db down"


def test_retry_log_takes_job_id_from_the_error() -> None:
    flaky = Flaky(RetryableError("x", JOB_ID))

    @retry_with_backoff(max_attempts=2)
    def call() -> str:
        return flaky.step()

    with capture_logs() as logs:
        call()
    assert retry_logs(logs)[0]["job_id"] == str(JOB_ID)


def test_retry_log_takes_job_id_from_the_job_id_argument() -> None:
    flaky = Flaky(RetryableError("x"))

    @retry_with_backoff(max_attempts=2)
    def call(*, job_id: uuid.UUID) -> str:
        return flaky.step()

    with capture_logs() as logs:
        call(job_id=JOB_ID)
    assert retry_logs(logs)[0]["job_id"] == str(JOB_ID)


async def test_retry_log_takes_job_id_from_the_log_context() -> None:
    flaky = Flaky(RetryableError("x"))

    @retry_with_backoff(max_attempts=2)
    async def call() -> str:
        return flaky.step()

    with capture_logs() as logs, log_context(job_id=JOB_ID, stage="generation"):
        await call()
    record = retry_logs(logs)[0]
    assert (record["job_id"], record["stage"]) == (str(JOB_ID), "generation")


def test_giving_up_is_logged_once() -> None:
    flaky = Flaky(*(RetryableError("x") for _ in range(3)))

    @retry_with_backoff(max_attempts=3)
    def call() -> str:
        return flaky.step()

    with capture_logs() as logs, pytest.raises(RetryableError):
        call()
    record = logs.find(
        message=f"Giving up on {call.__module__}.{call.__qualname__} after 3 attempts"
    )
    assert record["attempts"] == 3


def test_non_retryable_error_is_not_logged() -> None:
    @retry_with_backoff(max_attempts=3)
    def call() -> str:
        raise ValidationError("bad")

    with capture_logs() as logs, pytest.raises(ValidationError):
        call()
    assert len(logs) == 0


# ---------------------------------------------------------------------------------------------
# Decoration and bounds
# ---------------------------------------------------------------------------------------------


def test_decorated_coroutine_function_stays_a_coroutine_function_with_its_metadata() -> None:
    @retry_with_backoff()
    async def documented() -> None:
        """Docstring."""

    assert inspect.iscoroutinefunction(documented)
    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docstring."


async def test_concurrent_calls_count_their_attempts_independently() -> None:
    a, b = Flaky(RetryableError("a")), Flaky(RetryableError("b"), RetryableError("b"))

    @retry_with_backoff(max_attempts=3)
    async def call(flaky: Flaky) -> str:
        await asyncio.sleep(0)
        return flaky.step()

    assert await asyncio.gather(call(a), call(b)) == ["ok", "ok"]
    assert (a.calls, b.calls) == (2, 3)


@pytest.mark.parametrize("attempts", [0, -1, MAX_ATTEMPTS_LIMIT + 1, 1_000_000])
def test_out_of_range_max_attempts_is_refused(attempts: int) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        retry_with_backoff(max_attempts=attempts)


@pytest.mark.parametrize("attempts", [True, 2.5, "3"])
def test_non_int_max_attempts_is_refused(attempts: Any) -> None:
    with pytest.raises(TypeError, match="max_attempts"):
        retry_with_backoff(max_attempts=attempts)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_delay": -1}, "base_delay"),
        ({"base_delay": 3601}, "base_delay"),
        ({"max_delay": 0}, "max_delay"),
        ({"max_delay": 10_000}, "max_delay"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
    ],
)
def test_out_of_range_delays_are_refused(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        retry_with_backoff(**kwargs)  # type: ignore[arg-type]


def test_non_numeric_delay_is_refused() -> None:
    with pytest.raises(TypeError, match="base_delay"):
        retry_with_backoff(base_delay="2")  # type: ignore[arg-type]


@pytest.mark.parametrize("retry_on", [(int,), (KeyboardInterrupt,), ("ValueError",)])
def test_retry_on_must_hold_exception_types(retry_on: Any) -> None:
    with pytest.raises(TypeError, match="retry_on"):
        retry_with_backoff(retry_on=retry_on)


def test_decorator_without_parentheses_is_refused() -> None:
    def plain() -> None:
        pass

    with pytest.raises(TypeError, match="parentheses"):
        retry_with_backoff(plain)  # type: ignore[arg-type]


def test_generator_functions_are_refused() -> None:
    def numbers() -> Any:
        yield 1

    with pytest.raises(TypeError, match="generator"):
        retry_with_backoff()(numbers)


def test_base_delay_above_max_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="must not exceed max_delay"):
        retry_with_backoff(base_delay=10, max_delay=1)


class AsyncFlakyCallable:
    """An object with an async ``__call__`` that fails once with a retryable error."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls == 1:
            raise RetryableError("transient")
        return "ok"


async def test_an_object_with_an_async_call_is_retried() -> None:
    target = AsyncFlakyCallable()
    wrapped = retry_with_backoff(max_attempts=3)(target)
    assert inspect.iscoroutinefunction(wrapped)
    assert await wrapped() == "ok"
    assert target.calls == 2


async def test_a_plain_function_returning_a_coroutine_is_refused() -> None:
    async def fetch() -> str:
        return "never awaited"

    wrapped = retry_with_backoff(max_attempts=3)(lambda: fetch())
    with pytest.raises(TypeError, match="returned a coroutine"):
        wrapped()
