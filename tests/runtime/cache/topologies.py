"""Redis Cluster and Sentinel set-ups the tests start from redis-server/redis-sentinel processes.

Every process listens on 127.0.0.1 on a port picked free, keeps no data on disk, and is stopped
(SIGCONT, SIGTERM, then SIGKILL) by ``stop()``; tests may kill any of them.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cache_support import free_port

from runtime.cache import RedisCache
from runtime.cache._errors import LIMITER

HAS_CLUSTER_TOOLS = all(shutil.which(tool) for tool in ("redis-server", "redis-cli"))
HAS_SENTINEL_TOOLS = all(shutil.which(tool) for tool in ("redis-server", "redis-sentinel"))
NODE_TIMEOUT_MS = 1000


def ask(port: int, *command: str, timeout: float = 0.5) -> str:
    """Send one inline command and return the raw reply text ('' when nothing answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall((" ".join(command) + "\r\n").encode())
            chunks = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks += chunk
                if chunks.endswith(b"\r\n") and (
                    not chunks.startswith(b"$") or chunks.count(b"\r\n") >= 2
                ):
                    break
            return chunks.decode(errors="replace")
    except OSError:
        return ""


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Processes:
    """Redis processes by port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, port: int, args: list[str]) -> None:
        self.processes[port] = subprocess.Popen(
            args, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: ask(port, "PING").startswith("+PONG"), 10, f"redis on {port}")

    def kill(self, port: int) -> None:
        process = self.processes.pop(port)
        process.kill()
        process.wait(timeout=5)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()


def server_args(port: int, *extra: str) -> list[str]:
    return [
        "redis-server",
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--repl-diskless-sync-delay", "0",  # replicas in sync at once, ready to take over
        *extra,
    ]  # fmt: skip


class Cluster(Processes):
    """A Redis Cluster of three masters, each with one replica."""

    def start(self) -> None:
        self.ports = [free_port() for _ in range(6)]
        for port in self.ports:
            self.spawn(
                port,
                server_args(
                    port,
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", f"nodes-{port}.conf",
                    "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                    "--cluster-port", str(free_port()),  # the bus; port + 10000 may not exist
                ),
            )  # fmt: skip
        subprocess.run(
            [
                "redis-cli", "--cluster", "create",
                *(f"127.0.0.1:{port}" for port in self.ports),
                "--cluster-replicas", "1", "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        wait_for(self.healthy, 30, "the cluster to be ok with its replicas in sync")

    def serving(self) -> bool:
        """Every live node says ok and three masters serve the slots."""
        ok = all("cluster_state:ok" in ask(p, "CLUSTER", "INFO") for p in self.processes)
        return ok and len(self.masters()) == 3

    def healthy(self) -> bool:
        """Serving, and each master has a replica in sync (ready for a failover)."""
        return self.serving() and all(
            "state=online" in ask(p, "INFO", "replication") for p in self.masters()
        )

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:2])

    def masters(self) -> list[int]:
        return [p for p in self.processes if "role:master" in ask(p, "INFO", "replication")]


class SentinelSetup(Processes):
    """One master, one replica and three sentinels (quorum 2) watching service ``cache``."""

    service = "cache"

    def start(self) -> None:
        self.master, self.replica = free_port(), free_port()
        self.spawn(self.master, server_args(self.master))
        self.spawn(
            self.replica, server_args(self.replica, "--replicaof", "127.0.0.1", str(self.master))
        )
        self.sentinels = [free_port() for _ in range(3)]
        for port in self.sentinels:
            config = self.workdir / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {self.workdir}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.master} 2\n"
                f"sentinel down-after-milliseconds {self.service} 1000\n"
                f"sentinel failover-timeout {self.service} 5000\n"
            )
            self.spawn(port, ["redis-sentinel", str(config)])
        wait_for(self.watching, 30, "the sentinels to see the replica and each other")

    def watching(self) -> bool:
        for port in self.sentinels:
            reply = ask(port, "SENTINEL", "replicas", self.service)
            peers = ask(port, "SENTINEL", "sentinels", self.service)
            if str(self.replica) not in reply or peers.startswith("*0") or peers.startswith("*1"):
                return False
        return True

    def current_master(self) -> int | None:
        reply = ask(self.sentinels[0], "SENTINEL", "get-master-addr-by-name", self.service)
        lines = reply.split("\r\n")
        return int(lines[4]) if len(lines) > 4 and lines[4].isdigit() else None

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{p}" for p in self.sentinels)
        return f"redis+sentinel://{nodes}/{self.service}/0"


class Workload:
    """get_or_set calls in a loop (5 callers per key, new keys as it goes) while a fault happens.

    Records each call's latency, its own compute time and whether Redis served it (a call that
    computed without the lock counts as degraded), and the computations per key.
    """

    def __init__(
        self,
        caches: list[Any],
        *,
        callers_per_key: int = 5,
        lock_ttl: float = 1.0,
        wait_timeout: float = 2.0,
    ) -> None:
        self.caches = caches
        self.callers_per_key = callers_per_key
        self.lock_ttl = lock_ttl
        self.wait_timeout = wait_timeout
        self.calls: list[tuple[float, float, float, bool]] = []  # started, ended, computing, ok
        self.computations: Counter[str] = Counter()
        self.windows: dict[str, tuple[float, float]] = {}  # key -> (first call, last call end)
        self._stop = asyncio.Event()

    async def _round(self, n: int) -> None:
        key = f"job{n}"

        async def caller(i: int) -> None:
            spent = 0.0

            async def compute() -> dict[str, str]:
                nonlocal spent
                self.computations[key] += 1
                began = time.monotonic()
                await asyncio.sleep(0.05)
                spent += time.monotonic() - began
                return {"key": key}

            started = time.monotonic()
            value = await self.caches[i % len(self.caches)].get_or_set(
                key,
                compute,
                ttl=60,
                lock_ttl_seconds=self.lock_ttl,
                wait_timeout_seconds=self.wait_timeout,
            )
            assert value == {"key": key}
            ended = time.monotonic()
            self.calls.append((started, ended, spent, True))
            first, last = self.windows.get(key, (started, ended))
            self.windows[key] = (min(first, started), max(last, ended))

        await asyncio.gather(*(caller(i) for i in range(self.callers_per_key)))

    async def run(self, seconds: float, fault: Any) -> None:
        async def rounds() -> None:
            n = 0
            while not self._stop.is_set():
                await self._round(n)
                n += 1

        runners = [asyncio.create_task(rounds()) for _ in range(4)]
        await asyncio.sleep(seconds / 4)
        self.fault_at = time.monotonic()
        await asyncio.to_thread(fault)
        await asyncio.sleep(seconds * 3 / 4)
        self._stop.set()
        done, pending = await asyncio.wait(runners, timeout=30)
        assert not pending, "get_or_set calls hung"
        for task in done:
            task.result()

    def keys_computed_twice_before_the_fault(self) -> list[str]:
        """Keys all of whose calls ended before the fault yet were computed more than once: the
        lock's guarantee (one computation at a time per key while Redis serves) broken."""
        return [
            key
            for key, (_first, last) in self.windows.items()
            if last < self.fault_at and self.computations[key] != 1
        ]

    async def single_flight_burst(self, keys: int = 4, callers: int = 10) -> Counter[str]:
        """Fresh keys, many concurrent callers each, through every cache: computations per key."""
        computed: Counter[str] = Counter()

        async def call(key: str, i: int) -> None:
            async def compute() -> dict[str, str]:
                computed[key] += 1
                await asyncio.sleep(0.1)
                return {"key": key}

            cache = self.caches[i % len(self.caches)]
            assert await cache.get_or_set(key, compute, ttl=60) == {"key": key}

        fresh = [f"after-failover:{n}" for n in range(keys)]
        await asyncio.gather(*(call(k, i) for k in fresh for i in range(callers)))
        return computed

    def latencies(self, since: float = 0.0) -> list[float]:
        return sorted(
            ended - started - spent for started, ended, spent, _ in self.calls if started >= since
        )

    def summary(self) -> str:
        during = self.latencies(self.fault_at)
        return (
            f"{len(self.calls)} calls on {len(self.computations)} keys; computations per key "
            f"max {max(self.computations.values())}, keys computed more than once "
            f"{sum(1 for c in self.computations.values() if c > 1)}; latency beyond compute "
            f"after the fault p50 {during[len(during) // 2]:.3f} s, p99 "
            f"{during[int(len(during) * 0.99)]:.3f} s, max {during[-1]:.3f} s"
        )


async def more_calls_than_connections(url: str, prefix: str, *, connect_first: bool) -> None:
    """100 concurrent ``get_or_set`` calls on 20 keys through a cache of 2 connections.

    redis-py's cluster and Sentinel pools raise ``MaxConnectionsError`` at once when every
    connection is busy; the cache's calls wait instead: each returns its value, each key is
    computed once, and no call gives up on Redis.

    Args:
        url: The topology's URL.
        prefix: The test's key prefix.
        connect_first: Connect (a health check) before the calls; without it the first calls
            also race the client's discovery of the topology.
    """
    computed: Counter[str] = Counter()
    LIMITER.reset()

    async def compute_for(key: str) -> dict[str, str]:
        computed[key] += 1
        await asyncio.sleep(0.02)
        return {"key": key}

    async with RedisCache(url=url, key_prefix=prefix, max_connections=2) as cache:
        if connect_first:
            assert await cache.health_check()
        results = await asyncio.gather(
            *(
                cache.get_or_set(f"k{i // 5}", lambda i=i: compute_for(f"k{i // 5}"), ttl=60)
                for i in range(100)
            )
        )
    assert results == [{"key": f"k{i // 5}"} for i in range(100)]
    assert computed == Counter({f"k{n}": 1 for n in range(20)})
    assert LIMITER.seen == Counter()  # no call gave up on Redis
