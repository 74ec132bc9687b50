"""Figures for the runtime core: logging, redaction, retry overhead, error mapping, validation.

Run with ``nox -s bench -- runtime_core`` (against the installed wheel) or directly with Python.
Prints one line per figure; nothing is asserted.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import statistics
import struct
import tempfile
import time
import tracemalloc
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postgrest.exceptions import APIError

from runtime.config import Settings
from runtime.error_mapping import translate_exception
from runtime.logging import JsonFormatter, log_context, redact
from runtime.retry import retry_with_backoff
from runtime.testing import set_testing
from runtime.validation import validate_audio_file, validate_prompt

MB = 1024 * 1024


def per_call(fn: Callable[[], Any], *, repeat: int, rounds: int = 5) -> float:
    """Median seconds per call over ``rounds`` rounds of ``repeat`` calls."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        timings.append((time.perf_counter() - start) / repeat)
    return statistics.median(timings)


def report(name: str, seconds: float, unit: str = "us") -> None:
    scale = {"us": 1e6, "ms": 1e3}[unit]
    print(f"{name:<58} {seconds * scale:10.2f} {unit}")


def wav_bytes(seconds: float, rate: int = 44100) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def bench_logging() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "videogen.audio_parser", logging.INFO, __file__, 1, "Processing audio %s", ("x",), None
    )
    record.duration = 180
    record.bpm = 128.5
    with log_context(job_id="550e8400-e29b-41d4-a716-446655440000", stage="audio_analysis"):
        report(
            "log line format (JSON + redaction), per line",
            per_call(lambda: formatter.format(record), repeat=5_000),
        )
    text = "calling https://x.supabase.co/rest/v1/jobs?select=* with a 200-character message " * 2
    report(
        "redact() on a 166-char message with nothing to redact",
        per_call(lambda: redact(text), repeat=5_000),
    )


def bench_retry() -> None:
    def plain() -> int:
        return 1

    wrapped = retry_with_backoff(max_attempts=3)(plain)
    base = per_call(plain, repeat=10_000)
    report(
        "retry_with_backoff overhead, sync call that succeeds",
        per_call(wrapped, repeat=5_000) - base,
    )

    @retry_with_backoff(max_attempts=3)
    async def succeed() -> int:
        return 1

    async def many() -> None:
        for _ in range(5_000):
            await succeed()

    start = time.perf_counter()
    asyncio.run(many())
    report(
        "retry_with_backoff, async call that succeeds (per call)",
        (time.perf_counter() - start) / 5_000,
    )


def bench_error_mapping() -> None:
    upstream = APIError({"code": "23505", "message": "duplicate key", "details": "Key (id)=(1)"})
    report(
        "translate_exception(postgrest APIError)",
        per_call(lambda: translate_exception(upstream), repeat=5_000),
    )


def bench_validation() -> None:
    ten_mb = wav_bytes(0.1)
    header_fix = bytearray(ten_mb[:44])
    data_size = 10 * MB - 44
    struct.pack_into("<I", header_fix, 4, 36 + data_size)
    struct.pack_into("<I", header_fix, 40, data_size)
    big = bytes(header_fix) + bytes(data_size)
    report(
        "validate_audio_file(10 MB WAV bytes)",
        per_call(lambda: validate_audio_file(big), repeat=5),
        "ms",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "song.wav"
        path.write_bytes(big)
        for label, opener in (
            ("in-memory file object", lambda: io.BytesIO(big)),
            ("file opened from disk", lambda: path.open("rb")),
        ):
            with opener() as handle:
                tracemalloc.start()
                validate_audio_file(handle)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            name = f"validate_audio_file(10 MB, {label}) peak extra memory"
            print(f"{name:<64} {peak / MB:7.2f} MB")
    small = wav_bytes(1.0)
    report(
        "validate_audio_file(1 s 44.1 kHz WAV bytes)",
        per_call(lambda: validate_audio_file(small), repeat=200),
        "ms",
    )
    prompt = "A neon city at night with rain on the streets and a lone dancer " * 6
    report(
        "validate_prompt(~400 chars)",
        per_call(lambda: validate_prompt(prompt[:480]), repeat=5_000),
    )


def bench_config() -> None:
    values = {
        "supabase_url": "https://abcdefghijklmnop.supabase.co",
        "supabase_service_key": "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz",
        "supabase_anon_key": "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH",
        "redis_url": "redis://127.0.0.1:6379/0",
        "openai_api_key": "sk-proj-T3stK3yAbCdEfGhIjKlMnOp",
        "replicate_api_token": "r8_T3stT0k3nAbCdEfGhIjKlMnOpQrStUvWx",
        "jwt_secret_key": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c",
    }
    report(
        "Settings(...) construction and validation",
        per_call(lambda: Settings(_env_file=None, **values), repeat=500),
        "ms",
    )


def main() -> None:
    set_testing(True)
    print("runtime core benchmarks")
    bench_logging()
    bench_retry()
    bench_error_mapping()
    bench_validation()
    bench_config()


if __name__ == "__main__":
    main()
