"""Figures for storage: peak memory of a 200 MB streamed upload and of 200 MB downloads.

Run with ``nox -s bench -- storage`` (against the installed wheel) or directly with Python.
Supabase's gateway cannot run here, so a real HTTP/1.1 server on 127.0.0.1 stands in for the
Storage API (``tests/runtime/storage/fake_storage_server.py``: TUS create/PATCH/HEAD, objects
written to disk and streamed back from it). A 200 MiB MP4-looking file is uploaded from its path,
then downloaded with ``download_to_path`` and with ``stream_file``, each by a fresh Python process
(``tests/runtime/storage/upload_memory_probe.py``) that reports:

* the peak of Python allocations during the transfer (``tracemalloc``);
* the growth of its peak resident set (``VmHWM``, reset just before the transfer) over its size
  before the transfer;
* the elapsed time and throughput over loopback.

``VIDEOGEN_BENCH_UPLOAD_MIB`` (default 200) sets the file size. Nothing is asserted.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "tests" / "runtime" / "storage"
sys.path.insert(0, str(SUPPORT))

from fake_storage_server import FakeStorage  # noqa: E402

SIZE_MIB = int(os.environ.get("VIDEOGEN_BENCH_UPLOAD_MIB", "200"))
MIB = 1024 * 1024
MP4_HEADER = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
BUCKET = "video-outputs"
OBJECT = "bench/upload.mp4"


def write_file(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(MP4_HEADER)
        left = size - len(MP4_HEADER)
        while left:
            piece = min(left, MIB)
            handle.write(os.urandom(piece))
            left -= piece


def probe(server: FakeStorage, file: Path, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            str(SUPPORT / "upload_memory_probe.py"),
            server.url,
            server.service_key,
            str(file),
            BUCKET,
            OBJECT,
            mode,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"bench_storage: the {mode} failed:\n{result.stderr}")
        raise SystemExit(1)
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


def report(title: str, figures: dict[str, Any]) -> None:
    seconds = figures["seconds"]
    print(title)
    peak = figures["tracemalloc_peak_bytes"] / MIB
    print(f"  peak Python allocations (tracemalloc): {peak:.1f} MiB")
    print(
        f"  peak resident set growth: {figures['rss_growth_bytes'] / MIB:.1f} MiB "
        f"(from {figures['rss_before_bytes'] / MIB:.1f} MiB to "
        f"{figures['peak_rss_bytes'] / MIB:.1f} MiB)"
    )
    size_mib = figures["size_bytes"] / MIB
    print(f"  time: {seconds:.2f}s ({size_mib / seconds:.0f} MiB/s over loopback)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vgbench-storage-") as scratch:
        folder = Path(scratch)
        source = folder / "upload.mp4"
        write_file(source, SIZE_MIB * MIB)
        with FakeStorage(folder / "server") as server:
            upload = probe(server, source, "upload")
            chunks = len(server.state.chunk_sizes)
            stored = server.state.objects[(BUCKET, OBJECT)].path.stat().st_size
            report(
                f"bench_storage: {SIZE_MIB} MiB streamed upload from a path (TUS, {chunks} chunks)",
                upload,
            )
            print(f"  stored size matches: {stored == upload['size_bytes']}")

            copy = folder / "download.mp4"
            to_path = probe(server, copy, "download_to_path")
            report(f"bench_storage: {SIZE_MIB} MiB download_to_path", to_path)
            print(f"  downloaded file matches: {filecmp.cmp(source, copy, shallow=False)}")
            copy.unlink()

            streamed = probe(server, folder / "unused", "stream_file")
            report(
                f"bench_storage: {SIZE_MIB} MiB stream_file (chunks counted, not kept)", streamed
            )
            print(f"  streamed size matches: {streamed['size_bytes'] == upload['size_bytes']}")


if __name__ == "__main__":
    main()
