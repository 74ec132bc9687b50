"""The FLAC subframe walk measures every frame libFLAC writes to the byte.

The validator measures a frame's true length from its subframes (constant, verbatim, fixed and
LPC predictors, Rice partitions with escape codes, wasted bits, stereo decorrelation) where a
CRC alone cannot tell where the frame ends. The oracle here is the reference encoder: files made
by ``flac`` with settings that force each kind of subframe, every frame measured against the
distance to the next frame header libFLAC wrote (and the last against the end of the file).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.errors import ValidationError
from runtime.validation import validate_audio_file
from runtime.validation._flac import parse_frame_header
from runtime.validation._flac_last import measure_frame

pytestmark = pytest.mark.skipif(
    shutil.which("flac") is None or shutil.which("sox") is None, reason="needs flac and sox"
)

#: (name, sox synthesis and format, flac options): each forces other subframe kinds.
CASES = {
    "silence-constant": (["-r", "44100", "-c", "2", "-b", "16"], ["trim", "0", "0.4"], ["-5"]),
    "noise-24bit-verbatim-escape": (
        ["-r", "48000", "-c", "1", "-b", "24"],
        ["synth", "0.4", "whitenoise", "vol", "0.9"],
        ["-8", "--lax", "-r", "15"],
    ),
    "sine-fixed-predictors": (
        ["-r", "22050", "-c", "2", "-b", "16"],
        ["synth", "0.4", "sine", "440", "sine", "660"],
        ["-0"],
    ),
    "sine-lpc-32-lax": (
        ["-r", "96000", "-c", "1", "-b", "16"],
        ["synth", "0.3", "sine", "300-3000"],
        ["--lax", "-l", "32", "-b", "4608"],
    ),
    "wasted-bits-24-from-16": (
        ["-r", "44100", "-c", "2", "-b", "24"],
        ["synth", "0.4", "sine", "220", "sine", "330", "vol", "0.5"],
        ["-8"],
        # made 16-bit first: the low 8 bits of every sample are zero (wasted bits)
    ),
    "mid-side-adaptive": (
        ["-r", "44100", "-c", "2", "-b", "16"],
        ["synth", "0.4", "pinknoise", "vol", "0.3"],
        ["-4", "-M"],
    ),
    "left-right-exhaustive": (
        ["-r", "32000", "-c", "2", "-b", "16"],
        ["synth", "0.4", "sine", "500", "brownnoise", "vol", "0.4"],
        ["-8", "-e", "-m"],
    ),
    "six-channels-8-bit": (
        ["-r", "8000", "-c", "6", "-b", "8"],
        [
            *("synth", "1.5", "sine", "200", "sine", "300", "sine", "400"),
            *("whitenoise", "sine", "600", "sine", "700", "vol", "0.5"),
        ],
        ["-5"],
    ),
}


def _encode(folder: Path, name: str) -> bytes:
    fmt, synth, options = CASES[name]
    wav = folder / f"{name}.wav"
    if name.startswith("wasted-bits"):
        sixteen = folder / f"{name}-16.wav"
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(sixteen), *synth],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run(["sox", str(sixteen), "-b", "24", str(wav)], check=True, capture_output=True)
    else:
        subprocess.run(["sox", "-n", *fmt, str(wav), *synth], check=True, capture_output=True)
    out = folder / f"{name}.flac"
    subprocess.run(
        ["flac", "-s", "-f", *options, "-o", str(out), str(wav)], check=True, capture_output=True
    )
    return out.read_bytes()


def _frames(data: bytes) -> list[tuple[int, int, int]]:
    """(start, end, header length) of every frame, from libFLAC's own frame headers."""
    at = 4
    while True:  # metadata blocks
        last, length = data[at] & 0x80, int.from_bytes(data[at + 1 : at + 4], "big")
        at += 4 + length
        if last:
            break
    starts: list[int] = []
    search = at
    expected = 0
    while (found := data.find(b"\xff\xf8", search)) >= 0:
        header = parse_frame_header(data, found)
        if header is not None and header.number == expected:
            starts.append(found)
            expected += 1
        search = found + 1
    ends = [*starts[1:], len(data)]
    return [
        (start, end, parse_frame_header(data, start).length)  # type: ignore[union-attr]
        for start, end in zip(starts, ends, strict=True)
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_frame_libflac_writes_is_measured_to_the_byte(tmp_path: Path, name: str) -> None:
    data = _encode(tmp_path, name)
    streaminfo_bits = ((data[20] & 0x01) << 4 | data[21] >> 4) + 1
    frames = _frames(data)
    assert len(frames) > 1
    for start, end, header_length in frames:
        header = parse_frame_header(data, start)
        assert header is not None
        measured = measure_frame(
            data[start:end],
            header_length,
            header.block_size,
            header.channel_code,
            header.bits or streaminfo_bits,
        )
        assert measured == end - start, f"frame at {start} of {name}"


def test_a_frame_cut_short_is_measured_as_cut(tmp_path: Path) -> None:
    data = _encode(tmp_path, "noise-24bit-verbatim-escape")
    start, end, header_length = _frames(data)[0]
    header = parse_frame_header(data, start)
    assert header is not None
    cut = data[start : end - 40]
    assert measure_frame(cut, header_length, header.block_size, header.channel_code, 24) is None


MUTATIONS = 400  # per file, fixed seed: bounded and reproducible


@pytest.mark.parametrize(
    "name", ["noise-24bit-verbatim-escape", "sine-lpc-32-lax", "mid-side-adaptive"]
)
def test_corrupted_frames_are_measured_or_refused_never_crash(tmp_path: Path, name: str) -> None:
    data = _encode(tmp_path, name)
    frames = _frames(data)
    rng = random.Random(f"subframes:{name}")
    outcomes: set[str] = set()
    for _ in range(MUTATIONS):
        start, end, header_length = rng.choice(frames)
        header = parse_frame_header(data, start)
        assert header is not None
        frame = bytearray(data[start:end])
        for _flip in range(rng.randint(1, 4)):
            at = rng.randrange(header_length, len(frame))
            frame[at] = rng.randrange(256)
        measured = measure_frame(
            bytes(frame), header_length, header.block_size, header.channel_code, header.bits or 16
        )
        assert measured is None or 0 < measured <= len(frame)
        outcomes.add("cut" if measured is None else "measured")
        whole = data[:start] + bytes(frame) + data[end:]
        try:
            validate_audio_file(whole)
            outcomes.add("accepted")
        except ValidationError:
            outcomes.add("refused")
    assert {"measured", "refused"} <= outcomes  # verbatim subframes are never "cut" short
