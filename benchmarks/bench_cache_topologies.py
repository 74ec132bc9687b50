"""Figures for the cache on a Redis Cluster against a single server, side by side in one run.

Run with ``nox -s bench -- cache_topologies`` or directly with Python. It starts its own
``redis-server`` processes (one single server, and a 3-master/3-replica cluster, from the test
suite's ``tests/runtime/cache/topologies.py``) on free local ports, and stops them at the end;
it needs ``redis-server`` and ``redis-cli``. Nothing is asserted.

For each topology it prints:

* sequential ``get_or_set`` hits per second (one caller, a cached key);
* concurrent misses: 2,000 ``get_or_set`` calls, 5 callers per key, 100 at a time, 1 s locks,
  10-50 ms computations: calls per second, p50/p99/max latency and the computations run;

and the ratio cluster / single. ``VIDEOGEN_BENCH_SECONDS`` (default 1.5) sets the time of the
hit figure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "runtime" / "cache"))

from cache_support import HAS_REDIS_SERVER, RedisServer
from topologies import HAS_CLUSTER_TOOLS, Cluster

from runtime.cache import RedisCache

DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.5"))
CALLS, PER_KEY, CONCURRENCY = 2000, 5, 100


async def hits(cache: RedisCache) -> float:
    async def compute() -> dict[str, int]:
        return {"bpm": 120}

    await cache.get_or_set("hit", compute, ttl=300)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < DURATION_SECONDS:
        for _ in range(20):
            await cache.get_or_set("hit", compute, ttl=300)
            count += 1
    return count / (time.perf_counter() - started)


async def misses(cache: RedisCache) -> tuple[float, list[float], int]:
    slots = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    computed = 0
    run = uuid.uuid4().hex[:6]

    async def one(i: int) -> None:
        async def compute() -> dict[str, int]:
            nonlocal computed
            computed += 1
            await asyncio.sleep(0.01 + (i % 5) * 0.01)
            return {"i": i // PER_KEY}

        async with slots:
            began = time.perf_counter()
            await cache.get_or_set(f"m{run}:{i // PER_KEY}", compute, ttl=300, lock_ttl_seconds=1)
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(CALLS)))
    elapsed = time.perf_counter() - started
    return CALLS / elapsed, sorted(latencies), computed


async def measure(name: str, url: str) -> tuple[float, float]:
    async with RedisCache(url=url, key_prefix=f"vgbench:{uuid.uuid4().hex[:8]}:") as cache:
        assert await cache.health_check()
        hit_rate = await hits(cache)
        rate, latencies, computed = await misses(cache)
    print(
        f"  {name}: get_or_set hits {hit_rate:,.0f}/s; {CALLS} concurrent misses "
        f"{rate:,.0f} calls/s, p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms, {computed} computations"
    )
    return hit_rate, rate


def main() -> None:
    if not (HAS_REDIS_SERVER and HAS_CLUSTER_TOOLS):
        print("bench_cache_topologies: needs redis-server and redis-cli; skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        single = RedisServer(Path(tmp))
        cluster = Cluster(Path(tmp))
        try:
            single.start()
            cluster.start()
            print("bench_cache_topologies: own single server and 3+3 cluster, same run")
            single_figures = asyncio.run(measure("single server", single.url))
            cluster_figures = asyncio.run(measure("cluster (3 masters)", cluster.url))
            print(
                f"  ratio cluster / single: hits {cluster_figures[0] / single_figures[0]:.2f}, "
                f"concurrent misses {cluster_figures[1] / single_figures[1]:.2f}"
            )
        finally:
            single.stop()
            cluster.stop()


if __name__ == "__main__":
    main()
