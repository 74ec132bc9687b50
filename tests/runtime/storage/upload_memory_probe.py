"""Upload or download one file in a fresh process and print its memory figures as JSON.

Usage: python upload_memory_probe.py URL SERVICE_KEY FILE BUCKET OBJECT_PATH [MODE]

MODE is one of:

* ``upload`` (the default): ``upload_file(BUCKET, OBJECT_PATH, FILE)`` from the path;
* ``download_to_path``: ``download_to_path(BUCKET, OBJECT_PATH, FILE)``;
* ``download_file``: ``download_file(BUCKET, OBJECT_PATH)`` (the bytes are counted, then dropped;
  FILE is not used);
* ``stream_file``: ``stream_file(BUCKET, OBJECT_PATH)``, every chunk counted and dropped (FILE is
  not used).

Prints ``{"mode", "size_bytes", "tracemalloc_peak_bytes", "rss_before_bytes", "peak_rss_bytes",
"rss_growth_bytes", "seconds"}``: the bytes moved, the Python-level allocation peak during the
transfer, and the growth of the process's peak resident set (``VmHWM``, reset just before the
transfer through ``/proc/self/clear_refs``) over its resident set before the transfer.

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

from runtime.storage import StorageClient, StorageOptions

MODES = ("upload", "download_to_path", "download_file", "stream_file")


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


async def _transfer(
    storage: StorageClient, mode: str, file: Path, bucket: str, object_path: str
) -> int:
    if mode == "upload":
        await storage.upload_file(bucket, object_path, file)
        return os.path.getsize(file)  # noqa: ASYNC240 - one stat after the upload
    if mode == "download_to_path":
        return await storage.download_to_path(bucket, object_path, file)
    if mode == "download_file":
        return len(await storage.download_file(bucket, object_path, max_bytes=1 << 40))
    received = 0
    async with storage.stream_file(bucket, object_path) as chunks:
        async for chunk in chunks:
            received += len(chunk)
    return received


async def main(
    url: str, key: str, file: Path, bucket: str, object_path: str, mode: str = "upload"
) -> dict[str, int | float | str]:
    if mode not in MODES:
        raise SystemExit(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    options = StorageOptions(url=url, service_key=key, timeout_seconds=30.0)
    async with StorageClient(options=options) as storage:
        assert storage.api is not None  # build the HTTP client before measuring
        _reset_peak_rss()
        rss_before = _status_bytes("VmRSS")
        tracemalloc.start()
        started = time.perf_counter()
        size = await _transfer(storage, mode, file, bucket, object_path)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_rss = _status_bytes("VmHWM")
    return {
        "mode": mode,
        "size_bytes": size,
        "tracemalloc_peak_bytes": peak,
        "rss_before_bytes": rss_before,
        "peak_rss_bytes": peak_rss,
        "rss_growth_bytes": max(0, peak_rss - rss_before),
        "seconds": round(seconds, 3),
    }


if __name__ == "__main__":
    url, key, file, bucket, object_path = sys.argv[1:6]
    mode = sys.argv[6] if len(sys.argv) > 6 else "upload"
    print(json.dumps(asyncio.run(main(url, key, Path(file), bucket, object_path, mode))))
