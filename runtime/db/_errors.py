"""PostgreSQL errors (PostgREST's and psycopg's) translated into ours, by SQLSTATE.

Both paths to the database report a SQLSTATE (PostgREST also its own ``PGRSTxxx`` codes, or an
HTTP status when the body is not PostgREST JSON); :func:`from_sql_code` is the one table for
both. The mapping is documented in :mod:`runtime.error_mapping`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

if TYPE_CHECKING:
    import psycopg
    from postgrest.exceptions import APIError

from runtime._errors_http import build, class_for_status, status_int
from runtime.errors import (
    BudgetExceededError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    PermissionDeniedError,
    PipelineError,
    ServiceError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.logging import redact

__all__ = [
    "BUDGET_EXCEEDED_SQLSTATE",
    "INVALID_ARGUMENT_SQLSTATE",
    "from_postgrest",
    "from_psycopg",
    "from_sql_code",
]

BUDGET_EXCEEDED_SQLSTATE: Final = "VGB01"
"""The SQLSTATE our SQL functions raise when a charge would take a job past its budget."""
INVALID_ARGUMENT_SQLSTATE: Final = "22023"
"""invalid_parameter_value: raised by our SQL functions for a bad argument; a ValidationError."""

_SQLSTATE_CLASSES: Final[dict[str, type[ServiceError]]] = {
    "23505": ConflictError,  # unique_violation
    "23503": ConflictError,  # foreign_key_violation
    "23P01": ConflictError,  # exclusion_violation
    "42501": PermissionDeniedError,  # insufficient_privilege
    "P0002": NotFoundError,  # no_data_found: our SQL functions' "job/reservation not found"
    "55000": ConflictError,  # object_not_in_prerequisite_state: e.g. settle after release
    "VGB02": ConflictError,  # our SQL: an idempotency key names a reservation no longer held
    "57P01": ServiceUnavailableError,  # admin_shutdown
    "57P02": ServiceUnavailableError,  # crash_shutdown
    "57P03": ServiceUnavailableError,  # cannot_connect_now
    "53300": ServiceUnavailableError,  # too_many_connections
    "PGRST000": ServiceUnavailableError,  # could not connect to the database
    "PGRST001": ServiceUnavailableError,  # unexpected connection error
    "PGRST002": ServiceUnavailableError,  # could not build the schema cache
    "PGRST003": ServiceUnavailableError,  # timed out waiting for a pool connection
    "PGRST301": PermissionDeniedError,  # JWT invalid
    "PGRST302": PermissionDeniedError,  # anonymous access disabled
    "PGRST303": PermissionDeniedError,  # JWT claims invalid
}
_TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_ZERO_ROWS: Final = re.compile(r"\b0 rows\b")


def from_sql_code(
    code: str | None,
    message: str,
    *,
    service: str,
    job_id: UUID | None,
    hint: str | None,
    upstream_details: Any,
    connection_problem: bool,
) -> PipelineError:
    """Map a SQLSTATE / PostgREST code (shared by postgrest and psycopg)."""
    details = {"upstream_details": upstream_details}
    if code == BUDGET_EXCEEDED_SQLSTATE:
        return BudgetExceededError(
            redact(message),
            job_id,
            details={
                k: v
                for k, v in {
                    "upstream_code": code,
                    "hint": hint,
                    "upstream_details": upstream_details,
                }.items()
                if v is not None
            },
        )
    if code == INVALID_ARGUMENT_SQLSTATE:
        # Our SQL functions' "this argument is wrong" (and apply_batch's allow-list refusals):
        # the caller's input, not the database, is at fault; the transaction wrote nothing.
        return ValidationError(
            redact(message),
            job_id,
            details={
                k: v
                for k, v in {
                    "upstream_code": code,
                    "hint": hint,
                    "upstream_details": upstream_details,
                    "service": service,
                }.items()
                if v is not None
            },
        )
    cls: type[ServiceError] = DatabaseError
    retryable: bool | None = None
    status = status_int(code)
    if code is None:
        cls = ServiceUnavailableError if connection_problem else DatabaseError
    elif code in _SQLSTATE_CLASSES:
        cls = _SQLSTATE_CLASSES[code]
    elif code == "PGRST116":
        # "JSON object requested, multiple (or no) rows returned": only zero rows is "not found".
        text = f"{message} {upstream_details or ''}"
        cls = NotFoundError if _ZERO_ROWS.search(text) or "multiple" not in text else DatabaseError
    elif code.startswith("08"):
        cls = ServiceUnavailableError  # connection exception class
    elif code.startswith("28"):
        cls = PermissionDeniedError  # invalid authorization specification
    elif code in _TRANSIENT_SQLSTATES:
        retryable = True
    elif status is not None and 100 <= status <= 599:
        # postgrest puts the HTTP status in ``code`` when the error body is not PostgREST JSON.
        cls = class_for_status(status, DatabaseError)
    elif connection_problem:
        cls = ServiceUnavailableError
    return build(
        cls,
        message,
        service=service,
        job_id=job_id,
        status_code=status if status is not None and 100 <= status <= 599 else None,
        upstream_code=code,
        hint=hint,
        details=details,
        retryable=retryable,
    )


def from_postgrest(exc: APIError, service: str, job_id: UUID | None) -> PipelineError:
    code = str(exc.code) if exc.code is not None else None
    details = exc.details if isinstance(exc.details, str | int | float | bool | None) else None
    if details is None and exc.details is not None:
        details = str(exc.details)
    return from_sql_code(
        code,
        exc.message or "PostgREST request failed",
        service=service,
        job_id=job_id,
        hint=exc.hint,
        upstream_details=redact(details) if isinstance(details, str) else details,
        connection_problem=False,
    )


def from_psycopg(exc: psycopg.Error, service: str, job_id: UUID | None) -> PipelineError:
    import psycopg

    diag = exc.diag
    message = diag.message_primary or str(exc).strip() or type(exc).__name__
    detail = diag.message_detail
    return from_sql_code(
        exc.sqlstate,
        message,
        service=service,
        job_id=job_id,
        hint=diag.message_hint,
        upstream_details=redact(detail) if detail else None,
        connection_problem=isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError),
    )
