"""The base of every client's options model: frozen, strict, unknown fields refused.

A bad value raises :class:`~runtime.errors.ConfigError` naming the field, never the value
(:func:`runtime._bounds.options_error`), and a retry base delay above its cap is refused (every
delay would be the cap). Imported only by the options modules, which load pydantic on first use.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import pydantic
from pydantic import BaseModel, ConfigDict, model_validator

from runtime._bounds import options_error
from runtime.errors import ConfigError

__all__ = ["OptionsModel"]


class OptionsModel(BaseModel):
    """Frozen, strict options; errors as ``ConfigError``; retry base delay at most its cap."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    options_name: ClassVar[str] = ""
    """How errors name these options (the class name when empty)."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:  # a subclass's after-validator ran outside the wrap
            raise options_error(self._described(), exc) from None

    @classmethod
    def _described(cls) -> str:
        return cls.options_name or cls.__name__

    @model_validator(mode="wrap")
    @classmethod
    def _as_config_error(cls, data: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except pydantic.ValidationError as exc:
            raise options_error(cls._described(), exc) from None

    @model_validator(mode="after")
    def _check_backoff(self) -> Self:
        base = getattr(self, "retry_base_delay_seconds", None)
        cap = getattr(self, "retry_max_delay_seconds", None)
        if base is not None and cap is not None and base > cap:
            raise ConfigError(
                f"invalid {self._described()}: retry_base_delay_seconds must not exceed "
                "retry_max_delay_seconds"
            )
        return self
