"""Figures for the Redis cache, on the real Redis: JSON round trips through runtime.cache.

Run with ``nox -s bench -- cache`` (against the installed wheel) or directly with Python. It uses
``VIDEOGEN_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), writes only keys under a
random ``vgbench:`` prefix and deletes them. Nothing is asserted.

First, the import time: ``import runtime.cache`` against ``import redis.asyncio`` alone (the
target: at most 1.5 times), each in a fresh interpreter with ``python -X importtime``, the two
alternating, ``VIDEOGEN_BENCH_IMPORT_RUNS`` (default 15) runs each; it prints both medians and
the ratio.

For two payloads, a small dict and a large ``AudioAnalysis`` (a four-minute song: ~500 beats,
~60 lyric lines, ~60 clip boundaries), it prints sequential ``set_json`` + ``get_json`` round
trips per second:

* raw: redis-py (same pool settings) with ``json.dumps`` / ``json.loads`` of the plain dict;
* ours: ``RedisCache.set_json`` / ``get_json`` (plain JSON for the dict; for the analysis the
  model itself, read back with ``model=AudioAnalysis``, i.e. validated into the model);

and the ratio ours / raw; then a plain ``GET`` (what the per-operation deadline costs: each
operation runs in its own task) and a ``get_or_set`` hit against raw ``GET`` + ``json.loads``.
Raw and ours run interleaved in short slices, so a change in the machine's load hits both.
Last, the single-flight figure: 2,000 concurrent ``get_or_set`` calls, 5 per key, 0.1 s locks,
10-50 ms computations: calls per second, p50/p99/max latency and the computations run.
``VIDEOGEN_BENCH_SECONDS`` (default 1.5) sets the time per side of each figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from redis.asyncio import BlockingConnectionPool, Redis

from generated import AudioAnalysis
from runtime.cache import RedisCache
from runtime.resources import load_bundle

REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.5"))
IMPORT_RUNS = int(os.environ.get("VIDEOGEN_BENCH_IMPORT_RUNS", "15"))
IMPORT_TARGET_RATIO = 1.5
TTL_SECONDS = 300


def import_seconds(module: str) -> float:
    """The cumulative import time of ``module`` in a fresh interpreter (``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():  # "import time: self | cumulative | name"
        parts = line.split("|")
        if len(parts) == 3 and parts[2] == f" {module}":  # top level: the name is not indented
            return int(parts[1]) / 1e6  # microseconds
    raise RuntimeError(f"no import time reported for {module}: {result.stderr[-500:]}")


def import_figures(runs: int = IMPORT_RUNS) -> float:
    """Median import times of ``runtime.cache`` and ``redis.asyncio`` (alternating); the ratio."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        theirs.append(import_seconds("redis.asyncio"))
        ours.append(import_seconds("runtime.cache"))
    ratio = statistics.median(ours) / statistics.median(theirs)
    verdict = "met" if ratio <= IMPORT_TARGET_RATIO else "NOT met"
    print(
        f"  import ({runs} fresh interpreters each, medians): redis.asyncio "
        f"{statistics.median(theirs) * 1000:.0f} ms, runtime.cache "
        f"{statistics.median(ours) * 1000:.0f} ms, ratio {ratio:.2f} "
        f"(target <= {IMPORT_TARGET_RATIO}: {verdict})"
    )
    return ratio


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


SLICES = 10


async def run_for(trip: Callable[[int], Awaitable[None]], seconds: float, first: int = 0) -> int:
    """Call ``trip(i)`` in batches of 10 for ``seconds``; return how many calls were made.

    The one timing loop of the cache benchmarks (``bench_cache_topologies.py`` uses it too).
    """
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(10):
            await trip(first + count)
            count += 1
    return count


async def rates(
    raw_trip: Callable[[int], Awaitable[None]], our_trip: Callable[[int], Awaitable[None]]
) -> tuple[float, float]:
    """Round trips per second of both, interleaved in SLICES short slices (the machine's load
    changes during a run; alternating keeps the ratio fair), after a short warm-up."""
    for i in range(50):
        await raw_trip(i)
        await our_trip(i)
    counts = [0, 0]
    spent = [0.0, 0.0]
    for _ in range(SLICES):
        for side, trip in enumerate((raw_trip, our_trip)):
            started = time.perf_counter()
            counts[side] += await run_for(trip, DURATION_SECONDS / SLICES, counts[side])
            spent[side] += time.perf_counter() - started
    return counts[0] / spent[0], counts[1] / spent[1]


class Misses(NamedTuple):
    """What :func:`concurrent_misses` measured."""

    rate: float
    latencies: Sequence[float]
    computed: int

    def describe(self, calls: int) -> str:
        """``N calls/s, p50, p99, max, computations`` for one line of output."""
        lat = self.latencies
        return (
            f"{self.rate:,.0f} calls/s, p50 {lat[len(lat) // 2] * 1000:.0f} ms, "
            f"p99 {lat[int(len(lat) * 0.99)] * 1000:.0f} ms, "
            f"max {lat[-1] * 1000:.0f} ms, {self.computed} computations"
        )


async def concurrent_misses(
    cache: RedisCache,
    *,
    calls: int = 2000,
    per_key: int = 5,
    concurrency: int = 100,
    lock_ttl_seconds: float = 0.1,
    ttl: int = 60,
) -> Misses:
    """``calls`` concurrent ``get_or_set`` misses, ``per_key`` callers per key, ``concurrency``
    at a time, computations of 10-50 ms (shared with ``bench_cache_topologies.py``)."""
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    computed = 0
    run = uuid.uuid4().hex[:6]

    async def one(i: int) -> None:
        async def compute() -> dict[str, int]:
            nonlocal computed
            computed += 1
            await asyncio.sleep(0.01 + (i % 5) * 0.01)
            return {"i": i // per_key}

        async with slots:
            began = time.perf_counter()
            await cache.get_or_set(
                f"sf{run}:{i // per_key}", compute, ttl=ttl, lock_ttl_seconds=lock_ttl_seconds
            )
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return Misses(calls / (time.perf_counter() - started), sorted(latencies), computed)


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
    print(f"bench_cache: Redis {REDIS_URL}, {DURATION_SECONDS:g}s per side of each figure")
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

            raw_rate, our_rate = await rates(raw_trip, our_trip)
            print(
                f"  {name} ({size} bytes of JSON): raw redis-py+json {raw_rate:,.0f}/s, "
                f"runtime.cache {our_rate:,.0f}/s, ratio {our_rate / raw_rate:.2f}"
            )
        await plain_and_hit_figures(raw, ours, prefix)
        await single_flight_figures(ours)
    finally:
        keys = [k async for k in raw.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await raw.delete(*keys)
        await raw.aclose()
        await ours.aclose()


async def plain_and_hit_figures(raw: Redis, ours: RedisCache, prefix: str) -> None:
    """The cost of the per-operation deadline (a GET) and of a get_or_set hit."""
    await raw.set(f"{prefix}hit", json.dumps({"bpm": 120}), ex=TTL_SECONDS)

    async def raw_get(i: int) -> None:
        await raw.get(f"{prefix}hit")

    async def our_get(i: int) -> None:
        await ours.get("hit")

    async def raw_hit(i: int) -> None:
        json.loads(await raw.get(f"{prefix}hit"))

    async def compute() -> dict[str, int]:
        raise AssertionError("a hit never computes")

    async def our_hit(i: int) -> None:
        await ours.get_or_set("hit", compute, ttl=TTL_SECONDS)

    for name, raw_trip, our_trip in (
        ("GET (deadline overhead)", raw_get, our_get),
        ("get_or_set hit vs GET+json", raw_hit, our_hit),
    ):
        raw_rate, our_rate = await rates(raw_trip, our_trip)
        print(
            f"  {name}: raw {raw_rate:,.0f}/s, ours {our_rate:,.0f}/s, "
            f"ratio {our_rate / raw_rate:.2f}"
        )


async def single_flight_figures(ours: RedisCache) -> None:
    """Concurrent misses: 5 callers per key, 0.1 s locks, 10-50 ms computations."""
    calls, per_key = 2000, 5
    misses = await concurrent_misses(ours, calls=calls, per_key=per_key, lock_ttl_seconds=0.1)
    print(
        f"  get_or_set single-flight: {calls} calls on {calls // per_key} keys, "
        f"{misses.describe(calls)}"
    )


def main() -> None:
    print("bench_cache: import time")
    import_figures()
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
