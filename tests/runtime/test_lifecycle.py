"""The shared client lifecycle: lazy options, ``async with``, option bounds and the health check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from runtime._lifecycle import LazyClient, check_bound, run_health_check
from runtime.errors import ConfigError
from runtime.logging import get_logger
from runtime.testing import capture_logs


@dataclass(frozen=True)
class _Options:
    name: str


class _Client(LazyClient[_Options]):
    """A minimal client: counts closes, and marks whether ``__init__`` ran."""

    def __init__(self, *, name: str) -> None:
        self.built_by_init = True
        self._setup(options=_Options(name), factory=None)

    def _setup(self, *, options: _Options | None, factory: Callable[[], _Options] | None) -> None:
        super()._setup(options=options, factory=factory)
        self.closes = 0

    async def aclose(self) -> None:
        self.closes += 1


def test_eager_client_returns_the_options_it_was_built_with() -> None:
    assert _Client(name="eager").options == _Options("eager")


def test_lazy_does_not_call_the_factory_or_run_init() -> None:
    calls: list[int] = []

    def factory() -> _Options:
        calls.append(1)
        return _Options("lazy")

    client = _Client.lazy(factory)

    assert calls == []
    assert not hasattr(client, "built_by_init")
    assert client.closes == 0  # the subclass's own _setup ran


def test_lazy_client_calls_the_factory_once_on_first_access() -> None:
    calls: list[int] = []

    def factory() -> _Options:
        calls.append(1)
        return _Options("lazy")

    client = _Client.lazy(factory)

    assert client.options == _Options("lazy")
    assert client.options is client.options
    assert calls == [1]


def test_lazy_returns_an_instance_of_the_subclass() -> None:
    assert type(_Client.lazy(lambda: _Options("x"))) is _Client


def test_a_failing_factory_raises_on_access_and_is_tried_again_next_time() -> None:
    attempts: list[int] = []

    def factory() -> _Options:
        attempts.append(1)
        raise ConfigError("SETTING is not set")

    client = _Client.lazy(factory)

    for _ in range(2):
        with pytest.raises(ConfigError, match="SETTING is not set"):
            _ = client.options
    assert attempts == [1, 1]


async def test_async_with_yields_the_client_and_closes_it_on_exit() -> None:
    client = _Client(name="ctx")

    async with client as entered:
        assert entered is client
        assert client.closes == 0

    assert client.closes == 1


async def test_async_with_closes_the_client_when_the_block_raises() -> None:
    client = _Client(name="ctx")

    with pytest.raises(RuntimeError, match="boom"):
        async with client:
            raise RuntimeError("boom")

    assert client.closes == 1


def test_a_subclass_without_aclose_cannot_be_built() -> None:
    class _Incomplete(LazyClient[_Options]):
        pass

    with pytest.raises(TypeError, match="aclose"):
        _Incomplete()  # type: ignore[abstract]


async def test_health_check_returns_what_the_probe_answers() -> None:
    logger = get_logger("tests.lifecycle")

    async def healthy() -> bool:
        return True

    async def unhealthy() -> bool:
        return False

    assert await run_health_check(healthy, timeout_seconds=1.0, logger=logger, service="X")
    assert not await run_health_check(unhealthy, timeout_seconds=1.0, logger=logger, service="X")


async def test_health_check_returns_false_and_logs_when_the_probe_raises() -> None:
    async def broken() -> bool:
        raise ConnectionRefusedError("connection refused by 127.0.0.1:1")

    with capture_logs() as logs:
        result = await run_health_check(
            broken, timeout_seconds=1.0, logger=get_logger("tests.lifecycle"), service="Thing"
        )

    assert result is False
    record = logs.find(message="Thing health check failed: ConnectionRefusedError")
    assert record["level"] == "WARNING"
    assert record["error_type"] == "ConnectionRefusedError"
    assert "connection refused" in record["error"]


async def test_health_check_returns_false_when_the_probe_exceeds_the_timeout() -> None:
    async def slow() -> bool:
        await asyncio.sleep(10)
        return True

    loop = asyncio.get_running_loop()
    started = loop.time()
    with capture_logs() as logs:
        result = await run_health_check(
            slow, timeout_seconds=0.05, logger=get_logger("tests.lifecycle"), service="Slow"
        )

    assert result is False
    assert loop.time() - started < 5.0
    assert logs.filter(message="Slow health check failed: TimeoutError")


async def test_health_check_lets_cancellation_through() -> None:
    started = asyncio.Event()

    async def waits() -> bool:
        started.set()
        await asyncio.sleep(10)
        return True

    task = asyncio.create_task(
        run_health_check(
            waits, timeout_seconds=5.0, logger=get_logger("tests.lifecycle"), service="X"
        )
    )
    await started.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("value", [1, 5, 10, 2.5])
def test_check_bound_accepts_values_within_a_closed_range(value: float) -> None:
    check_bound("max_attempts", value, low=1, high=10)


@pytest.mark.parametrize("value", [0, 11, -1.0, 10.01])
def test_check_bound_refuses_values_outside_the_range(value: float) -> None:
    with pytest.raises(ConfigError, match=r"max_attempts must be a number in \[1, 10\]"):
        check_bound("max_attempts", value, low=1, high=10)


def test_check_bound_excludes_low_when_asked() -> None:
    check_bound("timeout_seconds", 0.001, low=0, high=300, above_low=True)
    with pytest.raises(ConfigError, match=r"timeout_seconds must be a number in \(0, 300\]"):
        check_bound("timeout_seconds", 0, low=0, high=300, above_low=True)


def test_check_bound_refuses_fractions_for_whole_options() -> None:
    with pytest.raises(ConfigError, match="must be an integer"):
        check_bound("max_connections", 2.5, low=1, high=100, whole=True)


@pytest.mark.parametrize("value", [True, "5", None])
def test_check_bound_refuses_values_that_are_not_numbers(value: object) -> None:
    with pytest.raises(ConfigError, match="got"):
        check_bound("max_connections", value, low=0, high=100)  # type: ignore[arg-type]
