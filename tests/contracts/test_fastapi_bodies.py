"""The generated models work as FastAPI request and response bodies (PRD success criterion)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from generated import AudioAnalysis, Job
from runtime.contracts import dereferenced_schema

JOB_EXAMPLE: dict[str, Any] = dereferenced_schema("job", "Job")["examples"][0]


def _app() -> FastAPI:
    app = FastAPI()
    store: dict[str, Job] = {}

    @app.post("/jobs", status_code=201)
    def create_job(job: Job) -> Job:
        store[str(job.id)] = job
        return job

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str) -> Job:
        return store[job_id]

    @app.post("/analysis")
    def echo_analysis(analysis: AudioAnalysis) -> AudioAnalysis:
        return analysis

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app())


def test_posted_job_is_returned_and_read_back_unchanged(client: TestClient) -> None:
    created = client.post(
        "/jobs", content=json.dumps(JOB_EXAMPLE), headers={"content-type": "application/json"}
    )
    assert created.status_code == 201
    assert created.json() == JOB_EXAMPLE
    fetched = client.get(f"/jobs/{JOB_EXAMPLE['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == JOB_EXAMPLE


def test_response_money_stays_a_decimal_string(client: TestClient) -> None:
    body = client.post("/jobs", json={**JOB_EXAMPLE, "total_cost": "0.1"}).json()
    assert body["total_cost"] == "0.1"


def test_omitted_defaults_are_filled_in_the_response(client: TestClient) -> None:
    partial = {k: v for k, v in JOB_EXAMPLE.items() if k not in ("progress", "total_cost")}
    body = client.post("/jobs", json=partial).json()
    assert body["progress"] == 0
    assert body["total_cost"] == "0.00"


def test_nested_contract_round_trips_through_the_api(client: TestClient) -> None:
    example = dereferenced_schema("audio", "AudioAnalysis")["examples"][0]
    response = client.post("/analysis", json=example)
    assert response.status_code == 200
    assert response.json() == example


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_cost", 3.42),
        ("status", "running"),
        ("progress", 101),
        ("id", "not-a-uuid"),
        ("created_at", "2025-11-14T10:30:00"),
        ("priority", "high"),
    ],
)
def test_invalid_body_gets_422_naming_the_field(
    client: TestClient, field: str, value: object
) -> None:
    response = client.post("/jobs", json={**JOB_EXAMPLE, field: value})
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["detail"]]
    assert ["body", field] in locations


def test_missing_required_field_gets_422(client: TestClient) -> None:
    body = {k: v for k, v in JOB_EXAMPLE.items() if k != "user_id"}
    response = client.post("/jobs", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"


def test_openapi_shows_money_as_a_pattern_string(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    job_schemas = [schema for name, schema in components.items() if name.startswith("Job")]
    assert job_schemas
    for schema in job_schemas:
        money = schema["properties"]["total_cost"]
        assert money["type"] == "string"
        assert money["pattern"] == r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$"


def test_openapi_shows_uuid_and_timestamp_formats(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    job = next(schema for name, schema in components.items() if name.startswith("Job"))
    assert job["properties"]["id"]["format"] == "uuid"
    assert job["properties"]["created_at"]["format"] == "date-time"
    assert job["additionalProperties"] is False
