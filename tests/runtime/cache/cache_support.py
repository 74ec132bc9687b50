"""Helpers shared by the Redis cache tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from redis.asyncio import Redis

from runtime.config import Settings

REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def delete_prefix(url: str, prefix: str) -> None:
    """Remove every key under ``prefix`` (never FLUSHALL: the server is shared)."""
    raw = Redis.from_url(url)
    try:
        keys = [key async for key in raw.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await raw.delete(*keys)
    finally:
        await raw.aclose()


def free_port() -> int:
    """Return a local TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_url() -> str:
    """A Redis URL on a local port where nothing listens (connection refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"


def make_settings(**overrides: object) -> Settings:
    """Valid settings for tests, read from nothing but these values."""
    values: dict[str, object] = {
        "supabase_url": "https://abcdefghijkl.supabase.co",
        "supabase_service_key": "sb_secret_" + "s" * 32,
        "supabase_anon_key": "sb_publishable_" + "p" * 32,
        "redis_url": REDIS_URL,
        "openai_api_key": "sk-" + "o" * 32,
        "replicate_api_token": "r8_" + "r" * 32,
        "jwt_secret_key": "j" * 40,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


Rule = Callable[[bytes], bool]


class LossyProxy:
    """A TCP proxy in front of the real Redis that can lose one reply or one connection.

    ``lose_reply(rule)``: the next command whose bytes match ``rule`` reaches Redis and is
    applied, but its reply never reaches the client (as when a network path dies after the
    request went through); the client times out and redis-py retries it on a new connection.
    ``drop_connection(rule)``: the next matching command is not forwarded and the client's
    connection is closed (redis-py sees a ConnectionError). ``matched`` counts rule hits.
    """

    def __init__(self, upstream_url: str = REDIS_URL) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._db = parts.path or "/0"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._rules: list[tuple[str, Rule]] = []
        self.matched = 0
        self.forwarded = 0  # chunks of commands sent on to Redis

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self._db}"

    def lose_reply(self, rule: Rule) -> None:
        self._rules.append(("lose", rule))

    def drop_connection(self, rule: Rule) -> None:
        self._rules.append(("drop", rule))

    def _action(self, data: bytes) -> str | None:
        for index, (action, rule) in enumerate(self._rules):
            if rule(data):
                del self._rules[index]
                self.matched += 1
                return action
        return None

    async def __aenter__(self) -> LossyProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers.add(up_writer)
        replies_to_lose = 0

        async def to_redis() -> None:
            nonlocal replies_to_lose
            while data := await reader.read(65536):
                self.forwarded += 1
                action = self._action(data)
                if action == "drop":
                    return
                if action == "lose":
                    replies_to_lose += 1
                up_writer.write(data)
                await up_writer.drain()

        async def to_client() -> None:
            nonlocal replies_to_lose
            while data := await up_reader.read(65536):
                if replies_to_lose:
                    replies_to_lose -= 1
                    continue
                writer.write(data)
                await writer.drain()

        try:
            pumps = [asyncio.ensure_future(to_redis()), asyncio.ensure_future(to_client())]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            for end in (writer, up_writer):
                end.close()
                with contextlib.suppress(OSError):
                    await end.wait_closed()
                self._writers.discard(end)
            self._tasks.discard(task)


def command_with(*parts: bytes) -> Rule:
    """A rule matching a command whose RESP bytes contain every one of ``parts``."""
    return lambda data: all(part in data for part in parts)


class RedisServer:
    """A throw-away redis-server on its own port, without persistence, that tests may fault.

    ``freeze``/``thaw`` send SIGSTOP/SIGCONT (the server accepts connections in the kernel's
    backlog but answers nothing); ``kill`` sends SIGKILL; ``start`` (again) reuses the port.
    """

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=5)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen server cannot handle SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


HAS_REDIS_SERVER = shutil.which("redis-server") is not None
