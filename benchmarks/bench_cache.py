"""Figures for the Redis cache, on the real Redis: JSON round trips through runtime.redis_client.

Run with ``nox -s bench -- cache`` (against the installed wheel) or directly with Python. It uses
``VIDEOGEN_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), writes only keys under a
random ``vgbench:`` prefix and deletes them. Nothing is asserted.

For two payloads, a small dict and a large ``AudioAnalysis`` (a four-minute song: ~500 beats,
~60 lyric lines, ~60 clip boundaries), it prints sequential ``set_json`` + ``get_json`` round
trips per second:

* raw: redis-py (same pool settings) with ``json.dumps`` / ``json.loads`` of the plain dict;
* ours: ``RedisCache.set_json`` / ``get_json`` (plain JSON for the dict; for the analysis the
  model itself, read back with ``model=AudioAnalysis``, i.e. validated into the model);

and the ratio ours / raw. ``VIDEOGEN_BENCH_SECONDS`` (default 1.5) sets the time per figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

from generated import AudioAnalysis
from runtime.redis_client import RedisCache
from runtime.resources import load_bundle

REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.5"))
TTL_SECONDS = 300


def large_analysis() -> AudioAnalysis:
    """A four-minute song at 124 BPM, built from the schema's example."""
    example: dict[str, Any] = load_bundle("AudioAnalysis")["$defs"]["AudioAnalysis"]["examples"][0]
    duration = 240.0
    beat = 60.0 / 124.0
    beats = [round(0.48 + i * beat, 3) for i in range(int((duration - 0.48) / beat))]
    sections = ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"]
    bounds = [round(duration * i / len(sections), 2) for i in range(len(sections) + 1)]
    clips = [round(i * 4.0, 2) for i in range(61)]
    example.update(
        duration=duration,
        beat_timestamps=beats,
        song_structure=[
            {"type": kind, "start": bounds[i], "end": bounds[i + 1], "energy": "medium"}
            for i, kind in enumerate(sections)
        ],
        lyrics=[
            {"text": f"Line {i}: city lights are calling out my name again", "timestamp": 4.0 * i}
            for i in range(60)
        ],
        clip_boundaries=[
            {"start": clips[i], "end": clips[i + 1], "duration": round(clips[i + 1] - clips[i], 2)}
            for i in range(60)
        ],
    )
    return AudioAnalysis.model_validate(example)


async def rate(round_trip: Callable[[int], Awaitable[None]]) -> float:
    """Round trips per second, run sequentially for DURATION_SECONDS after a short warm-up."""
    for i in range(50):
        await round_trip(i)
    count = 0
    started = time.perf_counter()
    deadline = started + DURATION_SECONDS
    while time.perf_counter() < deadline:
        for _ in range(50):
            await round_trip(count)
            count += 1
    return count / (time.perf_counter() - started)


async def main_async() -> None:
    prefix = f"vgbench:{uuid.uuid4().hex[:10]}:"
    analysis = large_analysis()
    payloads: dict[str, tuple[Any, Any, Any]] = {
        # name: (raw plain value, value given to set_json, model for get_json)
        "small dict": (
            {"job_id": str(uuid.uuid4()), "status": "processing", "progress": 42, "stage": "x"},
            None,
            None,
        ),
        "large AudioAnalysis": (analysis.model_dump(mode="json"), analysis, AudioAnalysis),
    }
    raw = Redis.from_pool(BlockingConnectionPool.from_url(REDIS_URL, max_connections=20))
    ours = RedisCache(url=REDIS_URL, key_prefix=prefix, max_connections=20)
    print(f"bench_cache: Redis {REDIS_URL}, {DURATION_SECONDS:g}s per figure, sequential")
    try:
        for name, (plain, value, model) in payloads.items():
            stored = plain if value is None else value
            size = len(json.dumps(plain))

            async def raw_trip(i: int, plain: Any = plain) -> None:
                key = f"{prefix}raw:{i % 100}"
                await raw.set(key, json.dumps(plain), ex=TTL_SECONDS)
                loaded = json.loads(await raw.get(key))
                assert loaded == plain

            async def our_trip(i: int, stored: Any = stored, model: Any = model) -> None:
                key = f"ours:{i % 100}"
                await ours.set_json(key, stored, ttl=TTL_SECONDS)
                loaded = (
                    await ours.get_json(key, model=model) if model else await ours.get_json(key)
                )
                assert loaded == stored

            raw_rate = await rate(raw_trip)
            our_rate = await rate(our_trip)
            print(
                f"  {name} ({size} bytes of JSON): raw redis-py+json {raw_rate:,.0f}/s, "
                f"runtime.redis_client {our_rate:,.0f}/s, ratio {our_rate / raw_rate:.2f}"
            )
    finally:
        keys = [k async for k in raw.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await raw.delete(*keys)
        await raw.aclose()
        await ours.aclose()


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
