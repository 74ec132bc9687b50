"""Figures for storage: peak memory of a 200 MB streamed (resumable) upload.

Run with ``nox -s bench -- storage`` (against the installed wheel) or directly with Python.
Supabase's gateway cannot run here, so a real HTTP/1.1 server on 127.0.0.1 stands in for the
Storage API (``tests/runtime/storage/fake_storage_server.py``: TUS create/PATCH/HEAD, objects
written to disk). A 200 MiB MP4-looking file is uploaded from its path by a fresh Python process
(``tests/runtime/storage/upload_memory_probe.py``) that reports:

* the peak of Python allocations during the upload (``tracemalloc``);
* the growth of its peak resident set (``VmHWM``, reset just before the upload) over its size
  before the upload;
* the elapsed time and throughput over loopback.

``VIDEOGEN_BENCH_UPLOAD_MIB`` (default 200) sets the file size. Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "tests" / "runtime" / "storage"
sys.path.insert(0, str(SUPPORT))

from fake_storage_server import FakeStorage  # noqa: E402

SIZE_MIB = int(os.environ.get("VIDEOGEN_BENCH_UPLOAD_MIB", "200"))
MIB = 1024 * 1024
MP4_HEADER = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def write_file(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(MP4_HEADER)
        left = size - len(MP4_HEADER)
        while left:
            piece = min(left, MIB)
            handle.write(os.urandom(piece))
            left -= piece


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vgbench-storage-") as scratch:
        folder = Path(scratch)
        source = folder / "upload.mp4"
        write_file(source, SIZE_MIB * MIB)
        with FakeStorage(folder / "server") as server:
            result = subprocess.run(
                [
                    sys.executable,
                    str(SUPPORT / "upload_memory_probe.py"),
                    server.url,
                    server.service_key,
                    str(source),
                    "video-outputs",
                    "bench/upload.mp4",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                print(f"bench_storage: the upload failed:\n{result.stderr}")
                raise SystemExit(1)
            figures = json.loads(result.stdout.splitlines()[-1])
            chunks = len(server.state.chunk_sizes)
            stored = server.state.objects[("video-outputs", "bench/upload.mp4")].path.stat().st_size
    seconds = figures["seconds"]
    print(f"bench_storage: {SIZE_MIB} MiB streamed upload from a path (TUS, {chunks} chunks)")
    print(f"  stored size matches: {stored == figures['size_bytes']}")
    peak = figures["tracemalloc_peak_bytes"] / MIB
    print(f"  peak Python allocations (tracemalloc): {peak:.1f} MiB")
    print(
        f"  peak resident set growth: {figures['rss_growth_bytes'] / MIB:.1f} MiB "
        f"(from {figures['rss_before_bytes'] / MIB:.1f} MiB to "
        f"{figures['peak_rss_bytes'] / MIB:.1f} MiB)"
    )
    print(f"  time: {seconds:.2f}s ({SIZE_MIB / seconds:.0f} MiB/s over loopback)")


if __name__ == "__main__":
    main()
