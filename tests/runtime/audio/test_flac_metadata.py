"""FLAC metadata blocks as libFLAC writes them (picture, cue sheet, tags, seek table, padding)
are accepted with the decoder's duration; each block made inconsistent is refused, as libsndfile
(the reader librosa uses) refuses it."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable

import pytest
from audio_oracle import decode

from runtime.errors import ValidationError
from runtime.validation import validate_audio_file

pytestmark = pytest.mark.skipif(
    shutil.which("flac") is None or shutil.which("sox") is None, reason="needs flac and sox"
)

Block = tuple[int, bytes]


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def rich_flac(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """CD audio with a picture, a two-track cue sheet, tags, a seek table and padding."""
    folder = tmp_path_factory.mktemp("flac-metadata")
    wav, cue, png = folder / "cd.wav", folder / "cd.cue", folder / "cover.png"
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", str(wav), "synth", "2", "sine", "440"],
        check=True,
        capture_output=True,
    )
    cue.write_text(
        'FILE "cd.wav" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n'
        "  TRACK 02 AUDIO\n    INDEX 01 00:01:00\n"
    )
    png.write_bytes(_png())
    out = folder / "cd.flac"
    subprocess.run(
        [
            *("flac", "-s", "-f", f"--picture={png}", f"--cuesheet={cue}", "-T"),
            *("ARTIST=VideoGen", "-S", "1s", "-P", "512", "-o", str(out), str(wav)),
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def _blocks(data: bytes) -> tuple[list[Block], bytes]:
    at, blocks = 4, []
    while True:
        last, kind = data[at] & 0x80, data[at] & 0x7F
        length = int.from_bytes(data[at + 1 : at + 4], "big")
        blocks.append((kind, data[at + 4 : at + 4 + length]))
        at += 4 + length
        if last:
            return blocks, data[at:]


def _build(blocks: list[Block], audio: bytes) -> bytes:
    out = b"fLaC"
    for index, (kind, body) in enumerate(blocks):
        flag = 0x80 if index == len(blocks) - 1 else 0
        out += bytes([flag | kind]) + len(body).to_bytes(3, "big") + body
    return out + audio


def _edit(data: bytes, kind: int, change: Callable[[bytes], bytes]) -> bytes:
    blocks, audio = _blocks(data)
    return _build([(k, change(b) if k == kind else b) for k, b in blocks], audio)


def test_libflac_metadata_blocks_are_accepted_with_the_decoders_duration(rich_flac: bytes) -> None:
    kinds = {kind for kind, _ in _blocks(rich_flac)[0]}
    assert {0, 1, 3, 4, 5, 6} <= kinds  # streaminfo, padding, seektable, tags, cuesheet, picture
    info = validate_audio_file(rich_flac)
    decoded = decode(rich_flac)
    assert decoded.playable
    assert not decoded.sndfile_error
    assert info.duration_seconds == pytest.approx(decoded.duration, rel=0.01)


def _streaminfo(offset: int, value: bytes) -> Callable[[bytes], bytes]:
    return lambda body: body[:offset] + value + body[offset + len(value) :]


def _three_bit_samples(body: bytes) -> bytes:
    field = 3 - 1  # bits per sample minus one, split over bytes 12 and 13
    return body[:12] + bytes([body[12] & 0xFE, (body[13] & 0x0F) | (field << 4)]) + body[14:]


CORRUPTIONS: dict[str, tuple[int, Callable[[bytes], bytes], str]] = {
    "picture-with-bytes-left-over": (6, lambda b: b + b"\x00\x00\x00\x00", "PICTURE"),
    "picture-length-overruns": (6, lambda b: b[:4] + b"\x7f\xff\xff\xff" + b[8:], "PICTURE"),
    "cuesheet-too-short": (5, lambda b: b[:100], "CUESHEET"),
    "cuesheet-with-bytes-left-over": (5, lambda b: b + b"\x00" * 12, "CUESHEET"),
    "tags-vendor-overruns": (4, lambda b: b"\xff\xff\xff\x7f" + b[4:], "VORBIS_COMMENT"),
    "tags-with-bytes-left-over": (4, lambda b: b + b"\x00\x00", "VORBIS_COMMENT"),
    "sample-size-below-4": (0, _three_bit_samples, "sample size"),
    "max-block-below-16": (0, _streaminfo(2, b"\x00\x08"), "maximum block size"),
    "sample-rate-zero": (
        0,
        lambda b: b[:10] + b"\x00\x00" + bytes([b[12] & 0x0F]) + b[13:],
        "sample rate",
    ),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_an_inconsistent_metadata_block_is_refused_as_libsndfile_does(
    rich_flac: bytes, name: str
) -> None:
    kind, change, named = CORRUPTIONS[name]
    data = _edit(rich_flac, kind, change)
    with pytest.raises(ValidationError, match=named):
        validate_audio_file(data)
    decoded = decode(data)
    assert not decoded.playable or decoded.sndfile_error, f"{name}: the decoders read it"
