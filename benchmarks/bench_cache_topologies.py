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
hit figure. The timing loops are ``bench_cache.py``'s (``run_for``, ``concurrent_misses``).
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

from bench_cache import concurrent_misses, run_for
from cache_support import HAS_REDIS_SERVER, RedisServer
from topologies import HAS_CLUSTER_TOOLS, Cluster

from runtime.cache import RedisCache

DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.5"))
CALLS, PER_KEY, CONCURRENCY = 2000, 5, 100


async def hits(cache: RedisCache) -> float:
    async def compute() -> dict[str, int]:
        return {"bpm": 120}

    async def hit(i: int) -> None:
        await cache.get_or_set("hit", compute, ttl=300)

    await hit(0)
    started = time.perf_counter()
    count = await run_for(hit, DURATION_SECONDS)
    return count / (time.perf_counter() - started)


async def measure(name: str, url: str) -> tuple[float, float]:
    async with RedisCache(url=url, key_prefix=f"vgbench:{uuid.uuid4().hex[:8]}:") as cache:
        assert await cache.health_check()
        hit_rate = await hits(cache)
        misses = await concurrent_misses(
            cache,
            calls=CALLS,
            per_key=PER_KEY,
            concurrency=CONCURRENCY,
            lock_ttl_seconds=1,
            ttl=300,
        )
    print(
        f"  {name}: get_or_set hits {hit_rate:,.0f}/s; {CALLS} concurrent misses "
        f"{misses.describe(CALLS)}"
    )
    return hit_rate, misses.rate


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
