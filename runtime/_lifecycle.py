"""Lifecycle plumbing shared by the service clients (database, postgres, cache, storage).

:class:`LazyClient` gives a client its deferred options (``Client.lazy(factory)``: the
module-level singletons read no configuration until first use), ``async with`` support and the
abstract :meth:`~LazyClient.aclose`. :func:`run_health_check` is the "never raises" wrapper
around one bounded health probe. :func:`check_bound` is the one range check every client's
options use.

Each client keeps its own connection handling: what ``aclose`` releases and whether a closed
client may be used again differ between them.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from runtime.errors import ConfigError

__all__ = ["LazyClient", "OptionsT", "check_bound", "resolve_options", "run_health_check"]

OptionsT = TypeVar("OptionsT")
"""The type of a client's options object."""


def resolve_options(
    cls: type[OptionsT], options: OptionsT | None, fields: dict[str, Any], *, client: str
) -> OptionsT:
    """A client's options: ``options=`` as given, or built from its keyword fields.

    Every client takes either ``options=Options(...)`` or the same fields as keywords
    (``PostgresDatabase(dsn, max_connections=5)``); the options model validates them either way,
    so no constructor repeats a field or a default.

    Args:
        cls: The client's options model.
        options: The options given, if any.
        fields: The keyword fields given (``None`` values already left out by the caller).
        client: The client's name, for the error.

    Returns:
        The options to use.

    Raises:
        ConfigError: Both were given, ``options`` is not a ``cls``, or a field is invalid,
            unknown or missing (raised by the model).
    """
    if options is None:
        return cls(**fields)
    if fields:
        raise ConfigError(f"give {client} either options= or keyword options, not both")
    if not isinstance(options, cls):
        raise ConfigError(
            f"{client} needs options={cls.__name__}(...), got {type(options).__name__}"
        )
    return options


def check_bound(
    name: str,
    value: float,
    *,
    low: float,
    high: float,
    whole: bool = False,
    above_low: bool = False,
) -> None:
    """Check one client option against its bounds.

    Args:
        name: The option's name, as the caller passes it (``max_connections``).
        value: Its value; ``bool`` is refused even though it is an ``int``.
        low: The smallest value allowed (excluded when ``above_low``).
        high: The largest value allowed.
        whole: Only integers are allowed.
        above_low: ``low`` itself is not allowed (a timeout must be above 0).

    Raises:
        ConfigError: The value is of the wrong type or out of range; the message names the
            option and the range.
    """
    kinds: tuple[type, ...] = (int,) if whole else (int, float)
    in_range = (
        not isinstance(value, bool)
        and isinstance(value, kinds)
        and (low < value if above_low else low <= value)
        and value <= high
    )
    if not in_range:
        kind = "an integer" if whole else "a number"
        opening = "(" if above_low else "["
        raise ConfigError(f"{name} must be {kind} in {opening}{low:g}, {high:g}], got {value!r}")


class LazyClient(ABC, Generic[OptionsT]):
    """Base of a client whose options are given up front or produced by a factory on first use.

    Subclasses build their options in ``__init__`` and call :meth:`_setup` (overriding it to
    initialise their own state, with ``super()._setup(...)``); :meth:`lazy` builds an instance
    without ``__init__``, so it reads no configuration and opens nothing. Subclasses implement
    :meth:`aclose`; ``async with client:`` closes it on exit.
    """

    _options: OptionsT | None
    _factory: Callable[[], OptionsT] | None

    def _setup(self, *, options: OptionsT | None, factory: Callable[[], OptionsT] | None) -> None:
        """Record the options, or the factory that will produce them on first access.

        Args:
            options: The options, or ``None`` for a lazy client.
            factory: Produces the options on first access (lazy clients only).
        """
        self._options = options
        self._factory = factory

    @classmethod
    def lazy(cls, factory: Callable[[], OptionsT]) -> Self:
        """Build a client whose options come from ``factory`` on first use.

        This is how the module-level singletons defer reading settings. After ``aclose`` a lazy
        client may be used again: it reconnects, in the then-running event loop.

        Args:
            factory: Called on first use to produce the options.

        Returns:
            A client that has read no configuration and opened nothing.
        """
        client = cls.__new__(cls)
        client._setup(options=None, factory=factory)
        return client

    @property
    def options(self) -> OptionsT:
        """The client's settings (for a lazy client, produced by its factory on first access)."""
        if self._options is None:
            assert self._factory is not None
            self._options = self._factory()
        return self._options

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the client opened."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def run_health_check(
    probe: Callable[[], Awaitable[bool]],
    *,
    timeout_seconds: float,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    service: str,
) -> bool:
    """Run one health probe within a timeout; never raises.

    Args:
        probe: Checks the service once and says whether it is healthy.
        timeout_seconds: Time allowed for the whole probe.
        logger: Where a failure is logged (as a warning, with ``error_type`` and ``error``).
        service: The name the failure message starts with, such as ``"Database"``.

    Returns:
        What ``probe`` returned; ``False`` when it raised or ran out of time.
    """
    try:
        async with asyncio.timeout(timeout_seconds):
            return await probe()
    except Exception as exc:  # the contract is "never raises"
        logger.warning(
            "%s health check failed: %s",
            service,
            type(exc).__name__,
            extra={"error_type": type(exc).__name__, "error": str(exc)[:300]},
        )
        return False
