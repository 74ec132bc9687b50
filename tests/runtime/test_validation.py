"""Validation of audio uploads, prompts and sizes, with real audio and a corpus of bad inputs.

WAV files are made here with the stdlib ``wave`` module; the MP3 and FLAC fixtures in
``tests/runtime/data`` were made once with sox, lame and flac: a 1 s 440 Hz tone at 22.05 kHz
mono (CBR with and without an ID3v2 tag, and VBR with a Xing header) and a 0.5 s two-tone
stereo FLAC at 44.1 kHz.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import wave
import zlib
from pathlib import Path
from typing import Any

import pytest
from mutagen.id3 import ID3, TIT2
from starlette.datastructures import UploadFile

from runtime.errors import ValidationError
from runtime.validation import (
    AudioFileInfo,
    validate_audio_file,
    validate_file_size,
    validate_prompt,
)
from runtime.validation._crc import crc8 as _crc8
from runtime.validation._flac import parse_frame_header

DATA = Path(__file__).parent / "data"
MP3 = DATA / "tone_1s_22050_mono.mp3"
MP3_ID3 = DATA / "tone_1s_id3.mp3"
MP3_VBR = DATA / "tone_1s_vbr.mp3"
FLAC = DATA / "tone_0.5s_44100_stereo.flac"
MB = 1024 * 1024


def make_wav(
    seconds: float = 0.25, *, rate: int = 8000, channels: int = 1, frames: int | None = None
) -> bytes:
    count = int(seconds * rate) if frames is None else frames
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
        for i in range(count)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def wav_of_size(total_bytes: int) -> bytes:
    """A valid silent 16-bit mono WAV of exactly ``total_bytes`` (even, >= 46)."""
    data_size = total_bytes - 44
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        8000,
        16000,
        2,
        16,
        b"data",
        data_size,
    )
    return header + bytes(data_size)


def make_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def rejected(source: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as info:
        validate_audio_file(source, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Real audio is accepted and described
# ---------------------------------------------------------------------------------------------


def test_wav_bytes_are_described() -> None:
    data = make_wav(0.5, rate=16000, channels=2)
    info = validate_audio_file(data)
    assert info == AudioFileInfo(
        format="wav",
        mime_type="audio/wav",
        size_bytes=len(data),
        duration_seconds=0.5,
        sample_rate=16000,
        channels=2,
    )


def test_mp3_path_is_described() -> None:
    info = validate_audio_file(MP3)
    assert (info.format, info.mime_type, info.sample_rate, info.channels) == (
        "mp3",
        "audio/mpeg",
        22050,
        1,
    )
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert info.size_bytes == MP3.stat().st_size


def test_mp3_with_id3_tag_is_described() -> None:
    info = validate_audio_file(str(MP3_ID3))
    assert info.format == "mp3"
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_vbr_mp3_with_xing_header_is_described() -> None:
    info = validate_audio_file(MP3_VBR)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_vbr_mp3_cut_short_of_what_its_xing_header_declares_is_refused() -> None:
    data = MP3_VBR.read_bytes()
    assert "MP3 file is truncated" in rejected(data[: len(data) // 3])


def test_flac_path_is_described() -> None:
    info = validate_audio_file(FLAC)
    assert (info.format, info.mime_type, info.sample_rate, info.channels) == (
        "flac",
        "audio/flac",
        44100,
        2,
    )
    assert info.duration_seconds == pytest.approx(0.5)


def test_result_is_frozen() -> None:
    info = validate_audio_file(make_wav())
    with pytest.raises(AttributeError):
        info.format = "mp3"  # type: ignore[misc]


def test_format_comes_from_content_not_the_file_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "song.flac"
    shutil.copyfile(MP3, misnamed)
    assert validate_audio_file(misnamed).format == "mp3"


# ---------------------------------------------------------------------------------------------
# File objects
# ---------------------------------------------------------------------------------------------


def test_binary_file_object_position_is_restored() -> None:
    with MP3.open("rb") as handle:
        assert validate_audio_file(handle).format == "mp3"
        assert handle.tell() == 0
        assert handle.read() == MP3.read_bytes()


def test_fastapi_upload_file_is_read_through_its_file() -> None:
    with tempfile.SpooledTemporaryFile() as spooled:
        spooled.write(FLAC.read_bytes())
        spooled.seek(0)
        upload = UploadFile(file=spooled, filename="song.flac")
        assert validate_audio_file(upload).format == "flac"
        assert upload.file.tell() == 0


def test_non_seekable_pipe_is_accepted() -> None:
    data = make_wav(0.1)
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as writer:
            writer.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    with os.fdopen(read_fd, "rb") as reader:
        info = validate_audio_file(reader)
    feeder.join()
    assert info.size_bytes == len(data)


class CountingReader(io.BytesIO):
    """A BytesIO that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_oversized_stream_is_refused_after_reading_at_most_max_plus_one_byte() -> None:
    stream = CountingReader(bytes(20 * MB))
    with pytest.raises(ValidationError, match="too large"):
        validate_audio_file(stream, max_size_mb=1)
    assert stream.bytes_read == MB + 1
    assert stream.tell() == 0


def test_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello", encoding="utf-8")
    with path.open("r", encoding="utf-8") as handle:
        assert "binary mode" in rejected(handle)


def test_unsupported_input_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes, a path or a binary file object"):
        validate_audio_file(12345)


# ---------------------------------------------------------------------------------------------
# Size limits
# ---------------------------------------------------------------------------------------------


def test_exactly_ten_megabytes_is_accepted() -> None:
    info = validate_audio_file(wav_of_size(10 * MB))
    assert info.size_bytes == 10 * MB


def test_ten_megabytes_and_one_byte_is_refused() -> None:
    message = rejected(wav_of_size(10 * MB) + b"\x00")
    assert "too large" in message
    assert "10 MB" in message


def test_a_smaller_limit_is_applied(tmp_path: Path) -> None:
    assert "too large" in rejected(FLAC, max_size_mb=0.01)


@pytest.mark.parametrize("limit", [0, -1, 2000, True, "10"])
def test_invalid_size_limit_is_refused(limit: Any) -> None:
    with pytest.raises(ValueError, match="max_size_mb"):
        validate_audio_file(make_wav(), max_size_mb=limit)


# ---------------------------------------------------------------------------------------------
# The corpus of bad inputs
# ---------------------------------------------------------------------------------------------


def test_empty_bytes_are_refused() -> None:
    assert "empty" in rejected(b"")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.touch()
    assert "empty" in rejected(path)


@pytest.mark.parametrize(
    ("source", "cut", "fragment"),
    [
        ("wav", 20, "truncated"),
        ("wav", 6, "truncated"),
        ("flac", 30, "truncated"),
        ("mp3", 3, "not a recognised audio format"),
        ("mp3", 50, "last audio frame (at 0.00 s) is cut short"),
        ("id3", 6, "truncated ID3"),
    ],
)
def test_truncated_headers_are_refused(source: str, cut: int, fragment: str) -> None:
    data = {
        "wav": make_wav(),
        "flac": FLAC.read_bytes(),
        "mp3": MP3.read_bytes(),
        "id3": MP3_ID3.read_bytes(),
    }[source]
    assert fragment in rejected(data[:cut])


def test_png_renamed_mp3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cover.mp3"
    path.write_bytes(make_png())
    message = rejected(path)
    assert "PNG image" in message
    assert "MP3, WAV or FLAC" in message


def test_executable_renamed_mp3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    with open(sys.executable, "rb") as exe:
        path.write_bytes(exe.read(64 * 1024))
    assert "executable" in rejected(path)


def test_id3_tag_without_audio_frames_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tag-only.mp3"
    path.touch()
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["No audio here"]))
    tag.save(path)
    assert path.read_bytes().startswith(b"ID3")
    assert "only an ID3 tag" in rejected(path)


def test_wav_whose_riff_header_claims_more_bytes_than_present_is_refused() -> None:
    data = bytearray(make_wav())
    struct.pack_into("<I", data, 4, len(data) + 1000)
    assert "header says the file is" in rejected(bytes(data))


def test_wav_whose_data_chunk_claims_more_bytes_than_present_is_refused() -> None:
    data = bytearray(make_wav())
    struct.pack_into("<I", data, 40, len(data) * 2)  # the 'data' chunk size
    assert "'data' chunk claims" in rejected(bytes(data))


def test_wav_without_samples_is_refused() -> None:
    assert "no audio samples" in rejected(make_wav(frames=0))


def test_wav_with_data_before_format_is_refused() -> None:
    body = struct.pack("<4sI", b"data", 4) + b"\x00\x00\x00\x00"
    data = struct.pack("<4sI4s", b"RIFF", 4 + len(body), b"WAVE") + body
    assert "before its 'fmt ' chunk" in rejected(data)


def test_wav_without_format_chunk_is_refused_saying_what_is_accepted() -> None:
    body = struct.pack("<4sI", b"LIST", 4) + b"INFO"
    data = struct.pack("<4sI4s", b"RIFF", 4 + len(body), b"WAVE") + body
    assert rejected(data) == (
        "The WAV file has no 'fmt ' chunk describing its audio. "
        "Upload a complete, playable MP3, WAV or FLAC file."
    )


def test_wav_with_zero_sample_rate_is_refused() -> None:
    data = bytearray(make_wav())
    struct.pack_into("<II", data, 24, 0, 0)  # sample rate and byte rate
    assert "invalid sample rate (0 Hz)" in rejected(bytes(data))


def test_wav_with_zero_channels_is_refused() -> None:
    data = bytearray(make_wav())
    struct.pack_into("<H", data, 22, 0)
    assert "0 channels; 1 to 8 are accepted" in rejected(bytes(data))


def test_wav_chunk_with_a_binary_id_is_refused_without_echoing_it() -> None:
    data = bytearray(make_wav())
    junk = struct.pack("<4sI", b"\x00\x01\x02\x03", 2) + b"\x00\x00"
    data[12:12] = junk  # a chunk whose id is not printable, before 'fmt '
    struct.pack_into("<I", data, 4, len(data) - 8)
    message = rejected(bytes(data))
    assert "a chunk whose id is not text at byte 12" in message
    assert "\\x" not in repr(message.encode("ascii"))


def test_flac_with_unknown_total_samples_is_accepted_with_the_counted_duration() -> None:
    data = bytearray(FLAC.read_bytes())
    data[8 + 13] &= 0xF0  # STREAMINFO total samples (36 bits) set to 0: "unknown"
    data[8 + 14 : 8 + 18] = bytes(4)
    assert validate_audio_file(bytes(data)).duration_seconds == pytest.approx(0.5)


def test_flac_metadata_without_audio_frames_is_refused() -> None:
    data = FLAC.read_bytes()
    position = 4
    while True:  # find where the metadata ends
        header = data[position]
        position += 4 + int.from_bytes(data[position + 1 : position + 4], "big")
        if header & 0x80:
            break
    assert "no valid audio frame" in rejected(data[:position] + b"garbage!")


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_flac_cut_between_frames_is_refused(fraction: float) -> None:
    data = FLAC.read_bytes()
    assert "last audio frame" in rejected(data[: int(len(data) * fraction)])


def test_flac_cut_inside_its_last_frame_is_refused() -> None:
    assert "last audio frame (at 0.46 s) fails its checksum" in rejected(FLAC.read_bytes()[:-3])


def test_flac_followed_by_an_id3v1_tag_is_accepted() -> None:
    tagged = FLAC.read_bytes() + b"TAG" + bytes(125)
    assert validate_audio_file(tagged).duration_seconds == pytest.approx(0.5)


def test_mp3_frame_followed_by_garbage_is_refused() -> None:
    first_frame = MP3.read_bytes()[:104]  # one 32 kbit/s 22.05 kHz frame is 104 bytes
    assert "followed by 600 bytes that are not MP3 audio" in rejected(first_frame + b"\x00" * 600)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"OggS" + bytes(100), "Ogg"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(100), "MP4/M4A"),
        (b"\xff\xf1\x50\x80" + bytes(100), "AAC"),
        (b"%PDF-1.7\n" + bytes(100), "PDF"),
        (b"just some text, not audio at all", "plain text"),
        (bytes(range(256)), "not a recognised audio format"),
    ],
)
def test_other_formats_are_named_and_refused(content: bytes, fragment: str) -> None:
    assert fragment in rejected(content)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    assert "not found: nope.mp3" in rejected(tmp_path / "nope.mp3")


def test_directory_path_is_refused(tmp_path: Path) -> None:
    assert "is a directory" in rejected(tmp_path)


# ---------------------------------------------------------------------------------------------
# Allowed formats and declared MIME types
# ---------------------------------------------------------------------------------------------


def test_format_outside_allowed_formats_is_refused() -> None:
    message = rejected(make_wav(), allowed_formats=("mp3", "flac"))
    assert message == "WAV files are not accepted here; upload MP3 or FLAC."


def test_invalid_allowed_formats_are_a_value_error() -> None:
    with pytest.raises(ValueError, match="allowed_formats"):
        validate_audio_file(make_wav(), allowed_formats=("ogg",))


@pytest.mark.parametrize(
    "declared",
    ["audio/wav", "audio/x-wav", "AUDIO/WAVE", "audio/wav; codecs=1", "application/octet-stream"],
)
def test_compatible_declared_mime_type_is_accepted(declared: str) -> None:
    assert validate_audio_file(make_wav(), declared_mime_type=declared).mime_type == "audio/wav"


def test_contradicting_declared_mime_type_is_refused() -> None:
    message = rejected(MP3, declared_mime_type="image/png")
    assert message == (
        "The declared type image/png does not match the content, which is MP3 (audio/mpeg)."
    )


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------


def test_prompt_of_fifty_characters_is_accepted() -> None:
    prompt = "a" * 50
    assert validate_prompt(prompt) == prompt


def test_prompt_of_five_hundred_characters_is_accepted() -> None:
    assert len(validate_prompt("b" * 500)) == 500


def test_prompt_of_forty_nine_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        validate_prompt("c" * 49)
    assert str(info.value) == (
        "Prompt is too short: 49 characters after trimming whitespace; "
        "it must be 50 to 500 characters."
    )


def test_prompt_of_five_hundred_and_one_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="too long: 501 characters"):
        validate_prompt("d" * 501)


def test_whitespace_padding_cannot_hide_a_short_prompt() -> None:
    with pytest.raises(ValidationError, match="too short: 40 characters"):
        validate_prompt(" " * 30 + "e" * 40 + "\n\t " * 10)


def test_internal_whitespace_runs_count_as_one_space() -> None:
    with pytest.raises(ValidationError, match="too short: 21 characters"):
        validate_prompt("ten chars!" + " " * 60 + "ten chars!")


def test_prompt_whitespace_is_cleaned() -> None:
    text = "  A neon city at night,\n\n\train on the streets,   a lone dancer moving to the beat  "
    assert validate_prompt(text) == (
        "A neon city at night, rain on the streets, a lone dancer moving to the beat"
    )


def test_prompt_is_unicode_normalised_before_counting() -> None:
    decomposed = "e\u0301" * 50  # 100 code points, 50 characters once composed
    assert validate_prompt(decomposed) == "\u00e9" * 50


@pytest.mark.parametrize(
    ("char", "fragment"),
    [
        ("\x00", "control character (U+0000)"),
        ("\x07", "control character (U+0007)"),
        ("\x0b", "control character (U+000B)"),
        ("\x0c", "control character (U+000C)"),
        ("\x1f", "control character (U+001F)"),
        ("\x85", "control character (U+0085)"),
        ("\u2028", "control character (U+2028)"),
        ("\u202e", "invisible formatting character (U+202E"),
        ("\u200b", "invisible formatting character (U+200B"),
        ("\ue000", "private-use or unassigned character (U+E000)"),
        ("\u0378", "private-use or unassigned character (U+0378)"),
        ("\ufffe", "private-use or unassigned character (U+FFFE)"),
    ],
)
def test_control_and_invisible_characters_are_refused(char: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        validate_prompt("x" * 30 + char + "y" * 30)


def test_no_break_and_ideographic_spaces_count_as_spaces() -> None:
    text = "A neon city\u00a0at night,\u3000rain on the streets, a lone dancer on the beat"
    assert validate_prompt(text) == (
        "A neon city at night, rain on the streets, a lone dancer on the beat"
    )


def test_emoji_joined_with_zero_width_joiner_is_accepted() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    prompt = validate_prompt("A family dancing together " + family + " in a sunny park at noon")
    assert family in prompt


def test_non_text_prompt_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be text"):
        validate_prompt(b"bytes are not a prompt" * 5)  # type: ignore[arg-type]


def test_custom_prompt_bounds_apply() -> None:
    assert validate_prompt("short", min_length=3, max_length=10) == "short"


@pytest.mark.parametrize(("low", "high"), [(-1, 10), (10, 5), (True, 10)])
def test_invalid_prompt_bounds_are_a_value_error(low: Any, high: Any) -> None:
    with pytest.raises(ValueError, match="length"):
        validate_prompt("anything", min_length=low, max_length=high)


# ---------------------------------------------------------------------------------------------
# Generic sizes
# ---------------------------------------------------------------------------------------------


def test_size_within_limit_is_returned() -> None:
    assert validate_file_size(1234, max_size_bytes=10 * MB) == 1234
    assert validate_file_size(10 * MB, max_size_bytes=10 * MB) == 10 * MB


def test_size_over_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(ValidationError) as info:
        validate_file_size(10 * MB + 1, max_size_bytes=10 * MB)
    assert str(info.value) == (
        "File is too large: 10.0 MB (10485761 bytes); the maximum is 10.0 MB (10485760 bytes)."
    )


def test_zero_size_is_an_empty_file() -> None:
    with pytest.raises(ValidationError, match="empty"):
        validate_file_size(0, max_size_bytes=10)


def test_size_below_a_custom_minimum_is_refused() -> None:
    with pytest.raises(ValidationError, match="too small: 3 bytes; the minimum is 4"):
        validate_file_size(3, max_size_bytes=10, min_size_bytes=4)


@pytest.mark.parametrize("size", [-1, 1.5, True, "10"])
def test_size_that_is_not_a_byte_count_is_refused(size: Any) -> None:
    with pytest.raises(ValidationError, match="whole number of bytes"):
        validate_file_size(size, max_size_bytes=10)


@pytest.mark.parametrize(("low", "high"), [(0, -1), (5, 4), (0, 1.5)])
def test_invalid_size_bounds_are_a_value_error(low: Any, high: Any) -> None:
    with pytest.raises(ValueError, match="size_bytes"):
        validate_file_size(1, max_size_bytes=high, min_size_bytes=low)


# ---------------------------------------------------------------------------------------------
# FLAC frame headers (the parser behind the frame walk)
# ---------------------------------------------------------------------------------------------


def _flac_frame_span(data: bytes, at: int, fixed_block: int) -> tuple[int, int] | None:
    """(first sample, samples) of the frame header at ``at``, or None when it is not one."""
    header = parse_frame_header(data, at)
    if header is None:
        return None
    first = header.number if header.variable else header.number * fixed_block
    return first, header.block_size


def _utf8_number(number: int) -> bytes:
    """FLAC's UTF-8-like coding of a frame or sample number."""
    if number < 0x80:
        return bytes([number])
    if number < 0x800:
        return bytes([0xC0 | number >> 6, 0x80 | number & 0x3F])
    return bytes([0xE0 | number >> 12, 0x80 | (number >> 6) & 0x3F, 0x80 | number & 0x3F])


def _frame_header(
    number: int, *, block_code: int, rate_code: int = 9, tail: bytes = b"", variable: bool = False
) -> bytes:
    body = (
        bytes([0xFF, 0xF9 if variable else 0xF8, block_code << 4 | rate_code, 0x18])
        + _utf8_number(number)
        + tail
    )
    return body + bytes([_crc8(body)])


@pytest.mark.parametrize(
    ("header", "span"),
    [
        (_frame_header(3, block_code=12), (3 * 4096, 4096)),
        (_frame_header(1000, block_code=12), (1000 * 4096, 4096)),
        (_frame_header(5000, block_code=12), (5000 * 4096, 4096)),
        (_frame_header(2, block_code=1), (2 * 4096, 192)),
        (_frame_header(2, block_code=3), (2 * 4096, 1152)),
        (_frame_header(2, block_code=6, tail=bytes([99])), (2 * 4096, 100)),
        (_frame_header(2, block_code=7, tail=(999).to_bytes(2, "big")), (2 * 4096, 1000)),
        (_frame_header(2, block_code=12, rate_code=12, tail=bytes([44])), (2 * 4096, 4096)),
        (_frame_header(60000, block_code=12, variable=True), (60000, 4096)),
    ],
)
def test_flac_frame_headers_give_their_first_sample_and_length(
    header: bytes, span: tuple[int, int]
) -> None:
    assert _flac_frame_span(header + bytes(8), 0, 4096) == span


@pytest.mark.parametrize(
    "header",
    [
        _frame_header(3, block_code=0),  # reserved block size
        _frame_header(3, block_code=12, rate_code=15),  # invalid sample rate
        bytes([0xFF, 0xF8, 0xC9, 0x19, 0x03, 0x00]),  # reserved bit set
        bytes([0xFF, 0xF8, 0xC9, 0x18, 0x80, 0x00]),  # a continuation byte cannot lead
        bytes([0xFF, 0xF8, 0xC9, 0x18, 0xC1, 0x41, 0x00]),  # the second byte is not 10xxxxxx
        _frame_header(3, block_code=12)[:-1] + b"\x00",  # CRC-8 does not match
        b"\xff\xf8\xc9",  # too short
    ],
)
def test_flac_frame_header_candidates_that_are_not_headers_are_ignored(header: bytes) -> None:
    assert _flac_frame_span(header + bytes(8), 0, 4096) is None


def test_flac_with_junk_after_its_last_frame_is_refused() -> None:
    junk = b"\xff\xf8\x00\x00\x00\x00\x00\x00"
    assert "last audio frame (at 0.46 s) fails its checksum" in rejected(FLAC.read_bytes() + junk)
