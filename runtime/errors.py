"""The pipeline's own exception hierarchy.

Every error that leaves a ``runtime`` API is a :class:`PipelineError`. Errors raised by upstream
libraries (httpx, postgrest, storage3, redis, psycopg) are translated at the boundary by
:func:`runtime.error_mapping.translate_exception` and chained with ``raise ... from exc``, so the
original stays available as ``__cause__``.

Hierarchy::

    PipelineError                      code="pipeline_error"
    ├── ConfigError                    code="config_error"
    ├── ValidationError                code="validation_error"
    │   ├── InvalidOptionError         code="invalid_option"         (also a ValueError)
    │   └── InvalidOptionTypeError     code="invalid_option_type"    (also a TypeError)
    ├── AudioAnalysisError             code="audio_analysis_error"
    ├── GenerationError                code="generation_error"
    ├── CompositionError               code="composition_error"
    ├── BudgetExceededError            code="budget_exceeded"
    ├── RetryableError                 code="retryable_error"        (retryable by default)
    │   └── ServiceUnavailableError    code="service_unavailable"    (also a ServiceError)
    └── ServiceError                   code="service_error"          (an upstream answered badly)
        ├── DatabaseError              code="database_error"
        ├── StorageError               code="storage_error"
        ├── CacheError                 code="cache_error"
        ├── NotFoundError              code="not_found"
        ├── PermissionDeniedError      code="permission_denied"
        ├── ConflictError              code="conflict"
        ├── PayloadTooLargeError       code="payload_too_large"
        └── ServiceUnavailableError    code="service_unavailable"

``code`` is a stable, documented string: callers and API layers may switch on it. Each class has a
default code; a raiser may pass a more specific one. The instance's ``retryable`` attribute is the
one source of truth for "may this be retried", read by :mod:`runtime.retry` and by every client:
it is set at construction from the class's ``default_retryable`` (true for
:class:`RetryableError` and :class:`ServiceUnavailableError`) unless the raiser passes
``retryable=...``. A write whose outcome is unknown is raised with ``retryable=False`` even when
its class is transient, and is then never retried.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

__all__ = [
    "AudioAnalysisError",
    "BudgetExceededError",
    "CacheError",
    "CompositionError",
    "ConfigError",
    "ConflictError",
    "DatabaseError",
    "GenerationError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PipelineError",
    "RetryableError",
    "ServiceError",
    "ServiceUnavailableError",
    "StorageError",
    "ValidationError",
    "InvalidOptionError",
    "InvalidOptionTypeError",
]


class PipelineError(Exception):
    """Base exception for all pipeline errors.

    Args:
        message: A clear, actionable description of what went wrong.
        job_id: The job the error belongs to, when known.
        code: A stable machine-readable code; defaults to the class's ``default_code``.
        retryable: Whether repeating the operation may succeed; defaults to the class's
            ``default_retryable``.
        details: Extra JSON-serialisable context (never secrets).
    """

    default_code: ClassVar[str] = "pipeline_error"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        job_id: UUID | None = None,
        code: str | None = None,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.job_id = job_id
        self.code = code or self.default_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(message)

    def __str__(self) -> str:
        if self.job_id is not None:
            return f"{self.message} (job_id={self.job_id})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, job_id={self.job_id!r}, "
            f"code={self.code!r}, retryable={self.retryable!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable body suitable for an API error response."""
        body: dict[str, Any] = {
            "error": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "job_id": str(self.job_id) if self.job_id is not None else None,
        }
        if self.details:
            body["details"] = self.details
        return body


class ConfigError(PipelineError):
    """Configuration errors (missing environment variables, invalid settings)."""

    default_code = "config_error"


class ValidationError(PipelineError):
    """Input validation errors: the input is wrong and retrying will not help."""

    default_code = "validation_error"


class InvalidOptionError(ValidationError, ValueError):
    """A bad option or argument value given to the library.

    It is a ``ValueError`` too, as Python's own argument checks raise, so ``except ValueError``
    keeps working.
    """

    default_code = "invalid_option"


class InvalidOptionTypeError(ValidationError, TypeError):
    """An option or argument of the wrong type (a ``TypeError`` too)."""

    default_code = "invalid_option_type"


class AudioAnalysisError(PipelineError):
    """Audio analysis failures."""

    default_code = "audio_analysis_error"


class GenerationError(PipelineError):
    """AI generation failures (images, video)."""

    default_code = "generation_error"


class CompositionError(PipelineError):
    """Video composition failures."""

    default_code = "composition_error"


class BudgetExceededError(PipelineError):
    """A spend would take a job past its budget limit."""

    default_code = "budget_exceeded"


class RetryableError(PipelineError):
    """A transient error: retryable by default.

    The class says what kind of failure it was; the instance's ``retryable`` says whether
    repeating is allowed. A raiser that knows repeating is unsafe (a write that may already have
    been applied) passes ``retryable=False``, and every retry path honours it.
    """

    default_code = "retryable_error"
    default_retryable = True


class ServiceError(PipelineError):
    """An upstream service (database, storage, cache, HTTP API) failed or refused a request.

    Args:
        message: What failed, keeping the server's own message.
        job_id: The job the error belongs to, when known.
        code: A stable code; defaults to the class's ``default_code``.
        retryable: Whether repeating may succeed.
        details: Extra context.
        service: Which service answered: ``"database"``, ``"storage"``, ``"cache"``, ``"http"``.
        status_code: The HTTP status (or the status the server reported in its body).
        upstream_code: The server's own error code (PostgREST/SQLSTATE code, Storage error code).
        hint: The server's hint, when it gave one (PostgREST).
    """

    default_code = "service_error"

    def __init__(
        self,
        message: str,
        job_id: UUID | None = None,
        code: str | None = None,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
        service: str | None = None,
        status_code: int | None = None,
        upstream_code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, job_id, code, retryable=retryable, details=details)
        self.service = service
        self.status_code = status_code
        self.upstream_code = upstream_code
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.service}: {text}" if self.service else text

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable body, including the upstream service's status and code."""
        body = super().to_dict()
        body.update(
            service=self.service,
            status_code=self.status_code,
            upstream_code=self.upstream_code,
            hint=self.hint,
        )
        return body


class DatabaseError(ServiceError):
    """The database (PostgREST or a direct PostgreSQL connection) refused or failed a query."""

    default_code = "database_error"


class StorageError(ServiceError):
    """Supabase Storage refused or failed a request."""

    default_code = "storage_error"


class CacheError(ServiceError):
    """Redis refused or failed a command."""

    default_code = "cache_error"


class NotFoundError(ServiceError):
    """The requested row, object or bucket does not exist (or is not visible to this key)."""

    default_code = "not_found"


class PermissionDeniedError(ServiceError):
    """The credentials are missing, invalid or lack the rights for this request."""

    default_code = "permission_denied"


class ConflictError(ServiceError):
    """The request conflicts with existing state (duplicate key, object already exists)."""

    default_code = "conflict"


class PayloadTooLargeError(ServiceError):
    """The payload is larger than the service or bucket accepts."""

    default_code = "payload_too_large"


class ServiceUnavailableError(ServiceError, RetryableError):
    """A service could not be reached, timed out or answered with a transient fault."""

    default_code = "service_unavailable"
    default_retryable = True
