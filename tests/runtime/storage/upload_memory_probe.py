"""Upload one file in a fresh process and print its memory figures as JSON.

Usage: python upload_memory_probe.py URL SERVICE_KEY FILE BUCKET OBJECT_PATH

Prints ``{"size_bytes", "tracemalloc_peak_bytes", "rss_before_bytes", "peak_rss_bytes",
"rss_growth_bytes", "seconds"}``: the Python-level allocation peak during the upload, and the
growth of the process's peak resident set (``VmHWM``, reset just before the upload through
``/proc/self/clear_refs``) over its resident set before the upload.

``ru_maxrss`` is not used: Linux carries it across ``exec``, so a child started by a big parent
(pytest after other large uploads) reports the parent's size.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

from runtime.storage import StorageClient


def _status_bytes(field: str) -> int:
    """Return a ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset VmHWM to the current resident set


async def main(
    url: str, key: str, file: Path, bucket: str, object_path: str
) -> dict[str, int | float]:
    size = os.path.getsize(file)  # noqa: ASYNC240 - once, before measuring
    async with StorageClient(url=url, service_key=key, timeout_seconds=30.0) as storage:
        assert storage.api is not None  # build the HTTP client before measuring
        _reset_peak_rss()
        rss_before = _status_bytes("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        await storage.upload_file(bucket, object_path, file)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_rss = _status_bytes("VmHWM")
    return {
        "size_bytes": size,
        "tracemalloc_peak_bytes": peak,
        "rss_before_bytes": rss_before,
        "peak_rss_bytes": peak_rss,
        "rss_growth_bytes": max(0, peak_rss - rss_before),
        "seconds": round(seconds, 3),
    }


if __name__ == "__main__":
    url, key, file, bucket, object_path = sys.argv[1:6]
    print(json.dumps(asyncio.run(main(url, key, Path(file), bucket, object_path))))
