"""The error hierarchy: inheritance, stable codes, retryable flag, job ids, API bodies."""

from __future__ import annotations

import json
import uuid

import pytest

import runtime.errors as errors_module
from runtime.errors import (
    AudioAnalysisError,
    BudgetExceededError,
    CacheError,
    CompositionError,
    ConfigError,
    ConflictError,
    DatabaseError,
    GenerationError,
    InvalidOptionError,
    InvalidOptionTypeError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelineError,
    RetryableError,
    ServiceError,
    ServiceUnavailableError,
    StorageError,
    ValidationError,
)

JOB_ID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")

CODES: dict[type[PipelineError], str] = {
    PipelineError: "pipeline_error",
    ConfigError: "config_error",
    ValidationError: "validation_error",
    InvalidOptionError: "invalid_option",
    InvalidOptionTypeError: "invalid_option_type",
    AudioAnalysisError: "audio_analysis_error",
    GenerationError: "generation_error",
    CompositionError: "composition_error",
    BudgetExceededError: "budget_exceeded",
    RetryableError: "retryable_error",
    ServiceError: "service_error",
    DatabaseError: "database_error",
    StorageError: "storage_error",
    CacheError: "cache_error",
    NotFoundError: "not_found",
    PermissionDeniedError: "permission_denied",
    ConflictError: "conflict",
    PayloadTooLargeError: "payload_too_large",
    ServiceUnavailableError: "service_unavailable",
}


def test_every_exported_class_is_listed_with_its_code() -> None:
    exported = {getattr(errors_module, name) for name in errors_module.__all__}
    assert exported == set(CODES)


@pytest.mark.parametrize(("cls", "code"), list(CODES.items()))
def test_each_class_has_its_stable_default_code(cls: type[PipelineError], code: str) -> None:
    assert issubclass(cls, PipelineError)
    assert cls("x").code == code


def test_codes_are_unique() -> None:
    assert len(set(CODES.values())) == len(CODES)


@pytest.mark.parametrize("cls", list(CODES))
def test_module_docstring_draws_every_class(cls: type[PipelineError]) -> None:
    assert errors_module.__doc__ is not None
    assert f"{cls.__name__} " in errors_module.__doc__
    assert f'code="{cls.default_code}"' in errors_module.__doc__


def test_prd_positional_signature_keeps_message_job_id_and_code() -> None:
    error = GenerationError("image model failed", JOB_ID, "replicate_timeout")
    assert (error.message, error.job_id, error.code) == (
        "image model failed",
        JOB_ID,
        "replicate_timeout",
    )


def test_str_includes_the_job_id_when_known() -> None:
    assert str(CompositionError("ffmpeg failed", JOB_ID)) == f"ffmpeg failed (job_id={JOB_ID})"
    assert str(CompositionError("ffmpeg failed")) == "ffmpeg failed"


@pytest.mark.parametrize("cls", [cls for cls in CODES if not issubclass(cls, RetryableError)])
def test_errors_are_not_retryable_by_default(cls: type[PipelineError]) -> None:
    assert cls("x").retryable is False


def test_any_error_can_be_marked_retryable() -> None:
    assert GenerationError("rate limited", retryable=True).retryable is True


def test_retryable_errors_are_retryable_by_default() -> None:
    assert RetryableError("x").retryable is True
    assert ServiceUnavailableError("x").retryable is True


def test_the_instance_flag_overrides_the_class_default() -> None:
    assert RetryableError("x", retryable=False).retryable is False
    assert ServiceUnavailableError("write may have committed", retryable=False).retryable is False


def test_service_unavailable_is_both_a_service_error_and_retryable() -> None:
    error = ServiceUnavailableError("redis down", service="cache")
    assert isinstance(error, ServiceError)
    assert isinstance(error, RetryableError)
    assert error.service == "cache"


def test_to_dict_is_a_json_api_body() -> None:
    error = BudgetExceededError("over budget", JOB_ID, details={"limit": "20.00"})
    body = json.loads(json.dumps(error.to_dict()))
    assert body == {
        "error": "BudgetExceededError",
        "code": "budget_exceeded",
        "message": "over budget",
        "retryable": False,
        "job_id": str(JOB_ID),
        "details": {"limit": "20.00"},
    }


def test_service_error_to_dict_carries_upstream_fields() -> None:
    error = ConflictError(
        "duplicate key",
        service="database",
        status_code=409,
        upstream_code="23505",
        hint="use upsert",
    )
    body = error.to_dict()
    assert (body["service"], body["status_code"], body["upstream_code"], body["hint"]) == (
        "database",
        409,
        "23505",
        "use upsert",
    )
    assert "details" not in body


def test_service_error_str_names_the_service() -> None:
    assert str(NotFoundError("Object not found", service="storage")) == "storage: Object not found"
    assert str(NotFoundError("Object not found")) == "Object not found"


def test_details_are_copied_not_shared() -> None:
    details = {"a": 1}
    error = PipelineError("x", details=details)
    details["a"] = 2
    assert error.details == {"a": 1}


def test_repr_shows_class_code_and_retryable() -> None:
    assert repr(RetryableError("x")) == (
        "RetryableError(message='x', job_id=None, code='retryable_error', retryable=True)"
    )
