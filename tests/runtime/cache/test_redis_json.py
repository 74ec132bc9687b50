"""JSON helpers: plain values, Pydantic models (ours and the generated ones), stale entries."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from generated import AudioAnalysis
from runtime.cache import RedisCache
from runtime.errors import ValidationError
from runtime.resources import load_bundle
from runtime.testing import capture_logs


class Charge(BaseModel):
    job_id: UUID
    amount: Decimal
    charged_at: datetime
    day: date
    tags: list[str] = Field(default_factory=list)
    label: str = Field(alias="Label")


class Renamed(BaseModel):
    job_id: UUID
    total: Decimal  # a field the stored entries never had


def audio_example() -> AudioAnalysis:
    example = load_bundle("AudioAnalysis")["$defs"]["AudioAnalysis"]["examples"][0]
    return AudioAnalysis.model_validate(example)


async def test_plain_json_round_trips(cache: RedisCache) -> None:
    value = {"data": "value", "n": [1, 2.5, None, True], "nested": {"ü": "✓"}}
    assert await cache.set_json("plain", value, ttl=60) is True
    assert await cache.get_json("plain") == value


async def test_get_json_of_a_missing_key_is_none(cache: RedisCache) -> None:
    assert await cache.get_json("missing") is None


async def test_model_round_trips_decimal_uuid_and_datetimes_exactly(cache: RedisCache) -> None:
    charge = Charge(
        job_id=uuid4(),
        amount=Decimal("0.10"),
        charged_at=datetime(2025, 11, 14, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=2))),
        day=date(2025, 11, 14),
        tags=["svd"],
        Label="clip 0",
    )
    await cache.set_json("charge", charge, ttl=60)
    loaded = await cache.get_json("charge", model=Charge)
    assert loaded == charge
    assert loaded is not None
    assert str(loaded.amount) == "0.10"
    assert loaded.charged_at.utcoffset() == timedelta(hours=2)


async def test_generated_audio_analysis_round_trips(cache: RedisCache) -> None:
    analysis = audio_example()
    await cache.set_json("audio", analysis, ttl=60)
    assert await cache.get_json("audio", model=AudioAnalysis) == analysis


async def test_without_model_a_model_reads_back_as_plain_json(cache: RedisCache) -> None:
    analysis = audio_example()
    await cache.set_json("audio", analysis, ttl=60)
    assert await cache.get_json("audio") == analysis.model_dump(mode="json", by_alias=True)


async def test_type_adapter_models_validate_plain_structures(cache: RedisCache) -> None:
    costs = {"svd": Decimal("0.06"), "sdxl": Decimal("0.0035")}
    await cache.set_json("costs", costs, ttl=60)
    assert await cache.get_json("costs", model=dict[str, Decimal]) == costs


async def test_stale_entry_is_a_miss_and_is_logged(cache: RedisCache) -> None:
    await cache.set_json("charge", {"job_id": str(uuid4()), "amount": "1.00"}, ttl=60)
    with capture_logs() as logs:
        assert await cache.get_json("charge", model=Renamed) is None
    record = logs.find(cache_key="charge")
    assert record["level"] == "WARNING"
    assert record["model"] == "Renamed"


async def test_invalid_json_is_a_miss_and_is_logged(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await raw_redis.set(f"{prefix}broken", b"{not json")
    with capture_logs() as logs:
        assert await cache.get_json("broken") is None
    assert logs.find(cache_key="broken")["error_type"] == "JSONDecodeError"


async def test_set_json_applies_its_ttl(cache: RedisCache) -> None:
    await cache.set_json("short", {"a": 1}, ttl=1)
    remaining = await cache.ttl("short")
    assert remaining is not None
    assert remaining <= 1


async def test_set_json_with_ttl_expires_for_real(cache: RedisCache) -> None:
    await cache.set_json("short", {"a": 1}, ttl=1)
    assert await cache.get_json("short") == {"a": 1}
    await asyncio.sleep(1.2)
    assert await cache.get_json("short") is None


async def test_set_json_refuses_none(cache: RedisCache) -> None:
    with pytest.raises(ValidationError, match="miss"):
        await cache.set_json("k", None, ttl=60)


async def test_set_json_refuses_values_that_are_not_json(cache: RedisCache) -> None:
    with pytest.raises(ValidationError, match="not JSON-serialisable"):
        await cache.set_json("k", {"handle": object()}, ttl=60)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.50"), "1.50"),
        (UUID("550e8400-e29b-41d4-a716-446655440000"), "550e8400-e29b-41d4-a716-446655440000"),
        (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "2025-01-02T03:04:05Z"),
    ],
    ids=["decimal", "uuid", "datetime"],
)
async def test_plain_values_of_rich_types_are_stored_as_json_strings(
    cache: RedisCache, value: Any, expected: str
) -> None:
    await cache.set_json("rich", {"v": value}, ttl=60)
    assert await cache.get_json("rich") == {"v": expected}
