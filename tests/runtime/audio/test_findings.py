"""One regression test per numbered finding of issue 10, on files built here from real encoders.

The expected verdicts and durations come from FFmpeg (PyAV), the reference decoder.
"""

from __future__ import annotations

import io
import random
import struct
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile
from audio_crafted import (
    flac_ending_in_zero_crc_byte,
    flac_of_blocks,
    flac_streaminfo_bits,
    id3v2_of_tiny_frames,
    mp3_frames,
    wav_of_empty_chunks,
    wav_with_fmt,
    with_xing_frames,
    zip_archive,
)
from audio_oracle import decode

from runtime.errors import ValidationError
from runtime.validation import validate_audio_file
from runtime.validation._flac import parse_frame_header

MB = 1024 * 1024


def rejected(source: Any) -> str:
    with pytest.raises(ValidationError) as info:
        validate_audio_file(source)
    return str(info.value)


# 1. Non-audio after MP3 frames -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("junk", "named"),
    [
        (zip_archive(), "ZIP archive"),
        (b"<!DOCTYPE html><html><body>" + b"x" * 5000 + b"</body></html>", "HTML page"),
        (random.Random(1).randbytes(2 * MB), "not a recognised audio format"),
    ],
)
def test_mp3_frames_followed_by_non_audio_are_refused(
    by_name: dict[str, bytes], junk: bytes, named: str
) -> None:
    data = mp3_frames(by_name["lame_cbr128_no_xing.mp3"], 2) + junk
    assert not decode(data).playable
    message = rejected(data)
    assert "followed by" in message
    assert named in message


# 2. Bounded work --------------------------------------------------------------------------------


def test_id3v2_tag_of_hundreds_of_thousands_of_frames_is_skipped_by_its_size(
    by_name: dict[str, bytes],
) -> None:
    data = id3v2_of_tiny_frames(8 * MB) + by_name["lame_cbr128_no_xing.mp3"]
    started = time.perf_counter()
    info = validate_audio_file(data)
    assert time.perf_counter() - started < 2.0  # was 74 s; the benchmark has the real figure
    assert info.duration_seconds == pytest.approx(decode(data).duration, rel=0.01)


@pytest.mark.parametrize(("kind", "body"), [(1, b""), (2, b"abcd")])
def test_flac_with_millions_of_metadata_blocks_is_refused_at_the_cap(
    by_name: dict[str, bytes], kind: int, body: bytes
) -> None:
    data = flac_of_blocks(by_name["flac_16_stereo.flac"], kind, 1_000_000, body)
    assert "more than 256 metadata blocks" in rejected(data)


def test_wav_with_a_million_empty_chunks_is_refused_at_the_cap(
    by_name: dict[str, bytes],
) -> None:
    data = wav_of_empty_chunks(by_name["sox_pcm16_stereo.wav"], 1_000_000)
    assert "more than 256 chunks" in rejected(data)


def test_flac_of_false_frame_syncs_is_refused(by_name: dict[str, bytes]) -> None:
    flac = by_name["flac_16_stereo.flac"]
    first = flac.find(b"\xff\xf8", 42)
    data = flac[:first] + b"\xff\xf8\xff" * (3 * MB)
    assert not decode(data[: 64 * 1024]).playable
    assert "FLAC" in rejected(data)


def test_flac_claiming_16_mb_frames_over_9_mb_of_false_syncs_is_refused(
    by_name: dict[str, bytes],
) -> None:
    # The case: STREAMINFO's max_frame_size set to 16 MiB - 1, then 9 MB of FF F8 FF.
    flac = bytearray(by_name["flac_16_stereo.flac"])
    flac[15:18] = b"\xff\xff\xff"  # fLaC, block header (4), min/max block (4), min frame (3)
    first = flac.find(b"\xff\xf8", 42)
    data = bytes(flac[:first]) + b"\xff\xf8\xff" * (3 * MB)
    started = time.perf_counter()
    message = rejected(data)
    assert time.perf_counter() - started < 2.0  # was 2-3 s; the benchmark has the real figure
    assert "FLAC" in message
    assert not decode(data[: 64 * 1024]).playable


def test_flac_with_a_million_tags_is_refused_at_the_cap(by_name: dict[str, bytes]) -> None:
    count = 1_300_000  # the case took 1 s
    entries = b"".join([struct.pack("<I", 1) + b"x"] * count)
    body = struct.pack("<I", 0) + struct.pack("<I", count) + entries
    data = flac_of_blocks(by_name["flac_16_stereo.flac"], 4, 1, body)
    assert "at most 10,000 are accepted" in rejected(data)


def test_mp3_beyond_the_frame_cap_is_refused(by_name: dict[str, bytes]) -> None:
    frames = mp3_frames(by_name["lame_mpeg25_8000.mp3"], 20)
    with pytest.raises(ValidationError, match="more than 8000 audio frames"):
        validate_audio_file(frames * 420, max_size_mb=1)


# 3. Duration taken on trust ---------------------------------------------------------------------


def test_xing_frame_count_beyond_the_frames_present_is_refused(by_name: dict[str, bytes]) -> None:
    data = with_xing_frames(by_name["lame_vbr_v2_xing.mp3"], 1_000_000)
    assert "truncated: its header describes" in rejected(data)


@pytest.mark.parametrize("name", ["lame_cbr128_no_xing.mp3", "lame_vbr_v6_no_xing.mp3"])
def test_mp3_without_xing_cut_inside_a_frame_is_refused(
    by_name: dict[str, bytes], name: str
) -> None:
    data = by_name[name]
    assert "is cut short" in rejected(mp3_frames(data, 2) + data[len(mp3_frames(data, 2)) :][:50])
    assert "is cut short" in rejected(data[: len(data) * 95 // 100])


# 4. Undecodable WAV/FLAC ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"tag": 0x1234}, "unknown coding (format tag 0x1234), which is not accepted"),
        ({"channels": 65535}, "65535 channels; 1 to 8 are accepted"),
        ({"rate": 4_000_000_000}, "invalid sample rate (4000000000 Hz)"),
    ],
)
def test_wav_formats_a_decoder_cannot_play_are_refused(
    by_name: dict[str, bytes], fields: dict[str, int], fragment: str
) -> None:
    data = wav_with_fmt(by_name["sox_pcm16_stereo.wav"], **fields)
    assert fragment in rejected(data)


def test_flac_whose_streaminfo_sample_size_disagrees_with_its_frames_is_refused(
    by_name: dict[str, bytes],
) -> None:
    data = flac_streaminfo_bits(by_name["flac_16_stereo.flac"], 32)
    assert "says 32-bit samples but its first audio frame is 16-bit" in rejected(data)


# 5. Durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "sox_ima_adpcm.wav",
        "sox_ms_adpcm.wav",
        "sox_gsm.wav",
        "ffmpeg_ima.wav",
        "ffmpeg_gsm_ms.wav",
        "lame_vbr_v6_no_xing.mp3",
    ],
)
def test_duration_is_the_decoders(by_name: dict[str, bytes], name: str) -> None:
    reference = decode(by_name[name])
    assert reference.playable
    info = validate_audio_file(by_name[name])
    assert info.duration_seconds == pytest.approx(reference.duration, rel=0.01)


# 6. Streamed output -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ffmpeg_streamed.flac", "ffmpeg_streamed.wav", "sox_streamed.wav"]
)
def test_streamed_encoder_output_is_accepted_with_the_decoders_duration(
    by_name: dict[str, bytes], name: str
) -> None:
    reference = decode(by_name[name])
    info = validate_audio_file(by_name[name])
    assert info.duration_seconds == pytest.approx(reference.duration, rel=0.01)
    assert (info.sample_rate, info.channels) == (reference.sample_rate, reference.channels)


# 7. Truncation holes ----------------------------------------------------------------------------


def test_flac_cut_by_a_final_zero_crc_byte_is_refused(by_name: dict[str, bytes]) -> None:
    whole = flac_ending_in_zero_crc_byte(by_name["flac_16_stereo.flac"])
    assert whole[-1] == 0
    assert decode(whole).playable
    # FFmpeg's parser adds a phantom block after so tiny a last frame; libFLAC counts exactly.
    with soundfile.SoundFile(io.BytesIO(whole)) as reference:
        expected = reference.frames / reference.samplerate
    assert validate_audio_file(whole).duration_seconds == pytest.approx(expected)
    # FFmpeg ignores the cut; libFLAC (libsndfile) refuses it.
    assert decode(whole[:-1]).sndfile_error
    assert "last audio frame is cut short" in rejected(whole[:-1])


def test_flac_with_zero_bytes_between_frames_is_refused(by_name: dict[str, bytes]) -> None:
    # A CRC stays valid when zero bytes follow its frame; libFLAC loses sync there.
    flac = by_name["flac_16_stereo.flac"]
    third = [i for i in range(len(flac) - 1) if parse_frame_header(flac, i)][2]
    data = flac[:third] + b"\x00\x00" + flac[third:]
    assert decode(data).sndfile_error
    assert "followed by bytes that are not audio" in rejected(data)


# 8. Messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("aiff.aiff", "an AIFF file"),
        ("wma.wma", "a WMA/ASF (Windows Media) file"),
        ("mp2.mp2", "MP2 (MPEG audio Layer II)"),
        ("ffmpeg_rf64.wav", "an RF64 (64-bit WAV) file"),
        ("m4a_alac.m4a", "ALAC (Apple Lossless)"),
        ("m4a_aac.m4a", "AAC audio"),
        ("ogg_flac.oga", "an Ogg FLAC file"),
        ("ogg_vorbis.ogg", "an Ogg Vorbis file"),
    ],
)
def test_refused_formats_are_named(by_name: dict[str, bytes], name: str, fragment: str) -> None:
    message = rejected(by_name[name])
    assert fragment in message
    assert "Upload MP3, WAV or FLAC" in message


def test_monkeys_audio_is_named() -> None:
    assert "APE (Monkey's Audio)" in rejected(b"MAC \x96\x0f" + bytes(200))


def test_flac_with_a_trailing_apev2_tag_is_accepted(by_name: dict[str, bytes]) -> None:
    data = by_name["flac_apev2_tail.flac"]
    assert decode(data).playable
    assert validate_audio_file(data).duration_seconds == pytest.approx(decode(data).duration)


def test_messages_never_echo_raw_bytes_or_library_internals(corpus: list[Any]) -> None:
    rng = random.Random(7)
    for sample in corpus:
        data = bytearray(sample.data)
        for _ in range(3):
            data[rng.randrange(min(len(data), 256))] = rng.randrange(256)
        try:
            validate_audio_file(bytes(data))
        except ValidationError as exc:
            text = str(exc)
            assert text.isprintable(), text
            assert "\\x" not in text
            assert "invalid flags" not in text
            assert "'<unknown>'" not in text


# 9. Text-mode file objects ----------------------------------------------------------------------


def test_text_mode_file_object_of_binary_audio_is_a_validation_error(
    by_name: dict[str, bytes], folder: Path
) -> None:
    path = folder / "song.mp3"
    path.write_bytes(by_name["lame_vbr_v2_xing.mp3"])
    with path.open("r", encoding="utf-8") as handle:
        assert "binary mode" in rejected(handle)


def test_text_io_wrapper_over_bytes_is_a_validation_error(by_name: dict[str, bytes]) -> None:
    handle = io.TextIOWrapper(io.BytesIO(by_name["sox_pcm16_stereo.wav"]), encoding="utf-8")
    assert "binary mode" in rejected(handle)


# Messages for other MPEG audio --------------------------------------------------------------


def test_mp3_joined_with_an_mp3_of_another_sample_rate_is_named(by_name: dict[str, bytes]) -> None:
    joined = mp3_frames(by_name["lame_cbr128_no_xing.mp3"], 5) + by_name["lame_mpeg2_22050.mp3"]
    assert "MP3 frame 6 (at 0.13 s) has a header that does not match the stream" in rejected(joined)


def test_free_format_mp3_is_named() -> None:
    assert "free-format MP3 or a corrupt MP3 frame" in rejected(b"\xff\xfb\x00\x00" + bytes(500))


def test_mp3_with_a_lyrics3_tag_is_refused_like_ffmpeg_does(by_name: dict[str, bytes]) -> None:
    data = by_name["lyrics3_id3v1_tail.mp3"]
    assert not decode(data).playable
    assert "a Lyrics3 tag, which FFmpeg fails on" in rejected(data)


def test_mp3_with_apev2_and_id3v1_tags_is_accepted(by_name: dict[str, bytes]) -> None:
    data = by_name["apev2_tail.mp3"] + b"TAG" + bytes(125)
    assert decode(data).playable
    assert validate_audio_file(data).duration_seconds == pytest.approx(
        decode(data).duration, rel=0.01
    )


def test_first_mp3_frame_unlike_the_rest_is_refused(by_name: dict[str, bytes]) -> None:
    # FFmpeg starts at the first frame whose header matches the next ones: it skips this one.
    data = bytearray(by_name["lame_cbr128_no_xing.mp3"])
    data[3] ^= 0x01  # emphasis
    assert decode(bytes(data)).samples < decode(by_name["lame_cbr128_no_xing.mp3"]).samples
    assert "first MP3 audio frame header does not match" in rejected(bytes(data))
