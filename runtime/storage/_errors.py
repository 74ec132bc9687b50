"""Storage errors (storage3's) translated into ours.

Storage answers HTTP 400 with the real status as a string in the body (``"404"``), and sometimes
only a code (``InvalidJWT``, ``NoSuchKey``): the status wins, then the code. The mapping is
documented in :mod:`runtime.error_mapping`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from uuid import UUID

if TYPE_CHECKING:
    from storage3.exceptions import StorageApiError
    from storage3.utils import StorageException

from runtime._errors_http import build, class_for_status, status_int
from runtime.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServiceError,
    ServiceUnavailableError,
    StorageError,
)

__all__ = ["from_storage"]

_STORAGE_CODE_CLASSES: Final[dict[str, type[ServiceError]]] = {
    "invalidjwt": PermissionDeniedError,
    "accessdenied": PermissionDeniedError,
    "unauthorized": PermissionDeniedError,
    "nosuchkey": NotFoundError,
    "nosuchbucket": NotFoundError,
    "not_found": NotFoundError,
    "duplicate": ConflictError,
    "keyalreadyexists": ConflictError,
    "resourcealreadyexists": ConflictError,
    "bucketalreadyexists": ConflictError,
    "entitytoolarge": PayloadTooLargeError,
    "payload too large": PayloadTooLargeError,
    "slowdown": ServiceUnavailableError,
    "databasetimeout": ServiceUnavailableError,
    "databaseerror": StorageError,
}


def from_storage(
    exc: StorageApiError | StorageException, service: str, job_id: UUID | None
) -> ServiceError:
    from storage3.exceptions import StorageApiError

    if not isinstance(exc, StorageApiError):
        return build(
            StorageError,
            str(exc) or type(exc).__name__,
            service=service,
            job_id=job_id,
            upstream_code=None,
        )
    status = status_int(exc.status)
    code = str(exc.code) if exc.code is not None else None
    cls: type[ServiceError] = StorageError
    if status is not None and class_for_status(status, StorageError) is not StorageError:
        cls = class_for_status(status, StorageError)
    elif code is not None and code.lower() in _STORAGE_CODE_CLASSES:
        cls = _STORAGE_CODE_CLASSES[code.lower()]
    return build(
        cls,
        exc.message,
        service=service,
        job_id=job_id,
        status_code=status,
        upstream_code=code,
    )
