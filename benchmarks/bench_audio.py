"""Figures for audio validation: the worst crafted inputs of at most 10 MB, and real encoder output.

Run with ``nox -s bench -- audio`` or directly (``PYTHONPATH=. python benchmarks/bench_audio.py``).
Needs lame, sox, flac and ffmpeg (``tools/ensure-services.sh``). Prints one line per figure: the
median of a few runs for each crafted input with its verdict, then the slowest crafted input,
then the median time over the real-encoder corpus of the differential test and for 10 MB files
made by lame, flac and sox. The targets: every input decided in at most 200 ms, real encoder
output in at most 50 ms (median).
"""

from __future__ import annotations

import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "runtime" / "audio"))

from audio_corpus import build  # noqa: E402
from audio_crafted import (  # noqa: E402
    flac_of_blocks,
    id3v2_of_tiny_frames,
    mp3_frames,
    wav_of_empty_chunks,
    zip_archive,
)

from runtime.errors import ValidationError  # noqa: E402
from runtime.validation import validate_audio_file  # noqa: E402
from runtime.validation._crc import crc8, crc16  # noqa: E402

MB = 1024 * 1024
TEN_MB = 10 * MB
ROUNDS = 5


def timed(data: bytes) -> tuple[float, float, str]:
    """Median wall-clock and CPU seconds over ROUNDS calls, and the verdict.

    CPU time (``time.process_time``) is what the validation itself costs; wall-clock time also
    counts waiting for a core, which on a shared machine can be several times more.
    """
    walls, cpus = [], []
    verdict = ""
    for _ in range(ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            info = validate_audio_file(data)
            verdict = f"accepted {info.format} {info.duration_seconds:.1f} s"
        except ValidationError as exc:
            verdict = "refused: " + str(exc)[:60]
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus), verdict


def fill(prefix: bytes, unit: bytes, suffix: bytes = b"") -> bytes:
    count = (TEN_MB - len(prefix) - len(suffix)) // len(unit)
    return prefix + unit * count + suffix


def tiny_flac_frames(streaminfo_file: bytes) -> bytes:
    """A 16-bit mono FLAC of 10 MB of 16-sample constant frames (valid, each with its CRCs)."""
    info = bytearray(streaminfo_file[:42])
    info[4] |= 0x80  # STREAMINFO is the last block
    info[8:12] = (16).to_bytes(2, "big") * 2  # block size 16
    info[8 + 12] &= 0xF1  # one channel (16-bit kept)
    info[8 + 13] &= 0xF0  # total samples unknown (0)
    info[8 + 14 : 8 + 18] = bytes(4)
    frames = []
    size = len(info)
    number = 0
    while size < TEN_MB - 16:
        head = bytes([0xFF, 0xF8, 0x69, 0x08]) + _utf8(number) + bytes([15])
        head += bytes([crc8(head)])
        body = head + b"\x00\x00\x00"  # one CONSTANT subframe of value 0
        frame = body + crc16(body).to_bytes(2, "big")
        frames.append(frame)
        size += len(frame)
        number += 1
    return bytes(info) + b"".join(frames)


def _utf8(number: int) -> bytes:
    if number < 0x80:
        return bytes([number])
    if number < 0x800:
        return bytes([0xC0 | number >> 6, 0x80 | number & 0x3F])
    if number < 0x10000:
        return bytes([0xE0 | number >> 12, 0x80 | (number >> 6) & 0x3F, 0x80 | number & 0x3F])
    return bytes(
        [
            0xF0 | number >> 18,
            0x80 | (number >> 12) & 0x3F,
            0x80 | (number >> 6) & 0x3F,
            0x80 | number & 0x3F,
        ]
    )


def crafted_inputs(corpus: dict[str, bytes]) -> dict[str, Callable[[], bytes]]:
    cbr = corpus["lame_cbr128_no_xing.mp3"]
    flac = corpus["flac_16_stereo.flac"]
    pcm = corpus["sox_pcm16_stereo.wav"]
    low = mp3_frames(corpus["lame_mpeg25_8000.mp3"], 20)
    first_frame = flac.find(b"\xff\xf8", 42)
    max_frame = bytearray(flac)
    max_frame[8 + 7 : 8 + 10] = (0xFFFFFF).to_bytes(3, "big")
    rng = random.Random(1)
    return {
        "ID3v2 tag of ~900k tiny frames + MP3": lambda: (
            id3v2_of_tiny_frames(TEN_MB - len(cbr)) + cbr
        ),
        "MP3 2 frames + 10 MB random": lambda: fill(mp3_frames(cbr, 2), rng.randbytes(MB)),
        "MP3 2 frames + ZIP": lambda: mp3_frames(cbr, 2) + zip_archive() * 100,
        "MP3 of 8 kbit/s MPEG-2.5 frames (frame cap)": lambda: fill(b"", low),
        "WAV of 1.2M empty chunks": lambda: wav_of_empty_chunks(pcm, 1_250_000),
        "FLAC of 2.3M empty PADDING blocks": lambda: flac_of_blocks(flac, 1, 2_300_000),
        "FLAC of 1.2M APPLICATION blocks": lambda: flac_of_blocks(flac, 2, 1_200_000, b"abcd"),
        "FLAC max_frame 16M + 9 MB of FF F8 FF": lambda: fill(
            bytes(max_frame[:first_frame]), b"\xff\xf8\xff"
        ),
        "FLAC first frame + 10 MB of FF F8 (false syncs)": lambda: fill(
            flac[: flac.find(b"\xff\xf8", first_frame + 2)], b"\xff\xf8\x00\x00"
        ),
        "FLAC of 1.3M tags": lambda: _flac_many_comments(flac, 1_300_000),
        "FLAC of 10 MB of tiny frames (frame cap)": lambda: tiny_flac_frames(flac),
        "WAV IMA ADPCM 10 MB": lambda: _ima_10mb(corpus["sox_ima_adpcm.wav"]),
    }


def _flac_many_comments(flac: bytes, count: int) -> bytes:
    body = struct.pack("<I", 0) + struct.pack("<I", count) + struct.pack("<I", 1) * count
    return flac_of_blocks(flac, 4, 1, body + b"x" * count)


def _ima_10mb(wav: bytes) -> bytes:
    data_at = wav.find(b"data") + 8
    blocks = wav[data_at:]
    body = (blocks * (TEN_MB // len(blocks) + 1))[: TEN_MB - data_at]
    header = bytearray(wav[:data_at])
    struct.pack_into("<I", header, 4, len(header) + len(body) - 8)
    struct.pack_into("<I", header, data_at - 4, len(body))
    return bytes(header) + body


def real_ten_mb(folder: Path) -> dict[str, bytes]:
    """10 MB files from real encoders: lame 320 kbit/s, flac, sox 16-bit WAV."""
    source = folder / "long.wav"
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(source), "synth", "245",
         "sine", "220-880", "sine", "330-990", "vol", "0.5"],
        check=True,
    )  # fmt: skip
    subprocess.run(["lame", "--quiet", "-b", "320", str(source), str(folder / "l.mp3")], check=True)
    subprocess.run(["flac", "-s", "-f", "-o", str(folder / "l.flac"), str(source)], check=True)
    wav = source.read_bytes()[:TEN_MB]
    return {
        "lame 320 kbit/s MP3": (folder / "l.mp3").read_bytes()[:TEN_MB],
        "flac FLAC": (folder / "l.flac").read_bytes(),
        "sox WAV (first 10 MB)": _fix_wav(wav),
    }


def _fix_wav(wav: bytes) -> bytes:
    fixed = bytearray(wav)
    data_at = wav.find(b"data") + 8
    struct.pack_into("<I", fixed, 4, len(wav) - 8)
    struct.pack_into("<I", fixed, data_at - 4, (len(wav) - data_at) // 4 * 4)
    return bytes(fixed[: data_at + (len(wav) - data_at) // 4 * 4])


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        samples = build(Path(folder))
        corpus = {sample.name: sample.data for sample in samples}
        validate_audio_file(corpus["flac_16_stereo.flac"])  # build the CRC masks once
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; wall / CPU ms")
        worst = (0.0, 0.0, "")
        for name, make in crafted_inputs(corpus).items():
            data = make()
            wall, cpu, verdict = timed(data)
            worst = max(worst, (cpu, wall, name))
            print(
                f"{name:<48} {len(data) / MB:5.1f} MB {wall * 1e3:7.1f} {cpu * 1e3:7.1f}  {verdict}"
            )
        slowest, wall_ms, cpu_ms = worst[2], worst[1] * 1e3, worst[0] * 1e3
        print(f"slowest crafted input (CPU): {slowest}: {wall_ms:.1f} / {cpu_ms:.1f} ms")
        for suffix in (".mp3", ".wav", ".flac"):
            group = [timed(s.data) for s in samples if s.name.endswith(suffix)]
            walls = [wall for wall, _, _ in group]
            cpus = [cpu for _, cpu, _ in group]
            print(
                f"real encoder corpus, {len(group)} {suffix} files: median "
                f"{statistics.median(walls) * 1e3:.2f} / {statistics.median(cpus) * 1e3:.2f} ms, "
                f"max {max(walls) * 1e3:.1f} / {max(cpus) * 1e3:.1f} ms"
            )
        for name, data in real_ten_mb(Path(folder)).items():
            wall, cpu, verdict = timed(data)
            print(
                f"{name:<48} {len(data) / MB:5.1f} MB {wall * 1e3:7.1f} {cpu * 1e3:7.1f}  {verdict}"
            )


if __name__ == "__main__":
    main()
