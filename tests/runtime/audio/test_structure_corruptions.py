"""WAV chunks and ID3 tags made inconsistent are refused with a message naming the problem, and
the reference decoders (FFmpeg, libsndfile) fail on them too."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from audio_oracle import decode

from runtime.errors import ValidationError
from runtime.validation import validate_audio_file

pytestmark = pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("wav") / "tone.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            str(path),
            "synth",
            "0.5",
            "sine",
            "440",
        ],
        check=True,
        capture_output=True,
    )
    return path.read_bytes()


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    at, out = 12, []
    while at + 8 <= len(data):
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        out.append((data[at : at + 4], data[at + 8 : at + 8 + size]))
        at += 8 + size + (size & 1)
    return out


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"WAVE" + b"".join(
        cid + struct.pack("<I", len(c)) + c + (b"\x00" if len(c) & 1 else b"") for cid, c in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt_and_data(wav: bytes) -> tuple[bytes, bytes]:
    found = dict(_chunks(wav))
    return found[b"fmt "], found[b"data"]


WAV_CASES = {
    "data-before-fmt": (lambda f, d: [(b"data", d), (b"fmt ", f)], "before its 'fmt ' chunk"),
    "two-data-chunks": (lambda f, d: [(b"fmt ", f), (b"data", d), (b"data", d)], "two 'data'"),
    "fmt-too-short": (lambda f, d: [(b"fmt ", f[:12]), (b"data", d)], "too short"),
}


@pytest.mark.parametrize("name", sorted(WAV_CASES))
def test_an_inconsistent_wav_is_refused_and_the_decoders_agree(wav: bytes, name: str) -> None:
    build, named = WAV_CASES[name]
    data = _riff(build(*_fmt_and_data(wav)))
    with pytest.raises(ValidationError, match=named):
        validate_audio_file(data)
    decoded = decode(data)
    assert not decoded.playable or decoded.sndfile_error, f"{name}: the decoders read it"


def _id3(size: int, *, flags: int = 0, version: int = 4) -> bytes:
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3" + bytes([version, 0, flags]) + syncsafe + b"\x00" * size


ID3_CASES = {
    "truncated-header": (b"ID3\x04\x00", "truncated ID3"),
    "corrupt-version": (b"ID3\xff\x00\x00\x00\x00\x00\x00", "ID3 tag header is corrupt"),
    "size-high-bit-set": (b"ID3\x04\x00\x00\x80\x00\x00\x00", "ID3 tag header is corrupt"),
    "only-a-tag": (_id3(32), "only an ID3 tag"),
}


@pytest.mark.parametrize("name", sorted(ID3_CASES))
def test_a_broken_or_lone_id3_tag_is_refused_by_name(name: str) -> None:
    data, named = ID3_CASES[name]
    with pytest.raises(ValidationError, match=named):
        validate_audio_file(data)
    assert not decode(data).playable


def test_more_id3_tags_in_a_row_than_the_cap_are_refused(wav: bytes) -> None:
    data = _id3(16) * 5 + wav
    with pytest.raises(ValidationError, match="more than 4 ID3 tags"):
        validate_audio_file(data)


@pytest.mark.parametrize("align", [0, 1, 3, 16])
def test_a_pcm_wav_with_a_wrong_block_alignment_plays_and_is_accepted(
    wav: bytes, align: int
) -> None:
    # FFmpeg and libsndfile ignore the field for PCM: so does the check, with their duration.
    fmt, data = _fmt_and_data(wav)
    patched = _riff([(b"fmt ", fmt[:12] + struct.pack("<H", align) + fmt[14:]), (b"data", data)])
    decoded = decode(patched)
    assert decoded.playable
    assert not decoded.sndfile_error
    info = validate_audio_file(patched)
    assert info.duration_seconds == pytest.approx(decoded.duration, rel=0.01)
