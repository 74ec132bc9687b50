"""The differential test: our verdict and duration against the reference decoders, on a corpus
made here by real encoders plus truncated, bit-flipped and crafted variants.

Reference verdict ("playable"): FFmpeg (PyAV) demuxes and decodes every packet without an error,
as MP3 Layer III, WAV or FLAC. For FLAC, libFLAC (through libsndfile) must also read it to the end,
because it checks every frame's CRC-16 and FFmpeg does not; the one exception is a STREAMINFO
total of 0 (streamed encoder output), which libsndfile 1.2 cannot read although the FLAC format
allows it. Zero false acceptances are allowed; false rejections only in the documented classes
below (docs/audio.md explains each).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from audio_corpus import Sample, variants
from audio_crafted import (
    flac_ending_in_zero_crc_byte,
    flac_streaminfo_bits,
    mp3_frames,
    wav_with_fmt,
    with_xing_frames,
    zip_archive,
)
from audio_oracle import Decoded, decode

from runtime.errors import ValidationError
from runtime.validation import AudioFileInfo, validate_audio_file

#: Refusals of files the reference decoders play, each a deliberate policy (docs/audio.md).
DOCUMENTED_REJECTIONS = {
    "truncated": re.compile(r"truncated|is cut short"),
    "bytes after the last MP3 frame": re.compile(r"followed by \d+ bytes that are not MP3"),
    "MP3 frame header not matching the stream": re.compile(r"does not match the stream"),
    "RF64 not accepted": re.compile(r"RF64"),
    "WAV format outside the accepted range": re.compile(
        r"channels; 1 to 8 are accepted|invalid sample rate|format is inconsistent|"
        r"which is not accepted; WAV must hold"
    ),
    "MP3 audio not where the file or its ID3 tag starts": re.compile(
        r"does not start where its ID3 tag ends|does not start with an audio frame|free-format|"
        r"first MP3 audio frame header does not match"
    ),
    "WAV chunk id not text (libsndfile stops there)": re.compile(r"chunk whose id is not text"),
    "FLAC metadata layout libsndfile refuses": re.compile(
        r"VORBIS_COMMENT\) is corrupt|PICTURE block is corrupt|CUESHEET block|"
        r"APPLICATION block is too short|tags; at most"
    ),
    "FLAC frame checksum (FFmpeg ignores CRCs)": re.compile(r"fails its checksum"),
    "ADPCM block header invalid (FFmpeg drops the packet)": re.compile(r"invalid header"),
    "FLAC header disagrees with its frames": re.compile(r"The FLAC header says .* but"),
}
DURATION_TOLERANCE = 0.01


def _crafted(by_name: dict[str, bytes]) -> list[Sample]:
    rng = random.Random(3)
    cbr = by_name["lame_cbr128_no_xing.mp3"]
    pcm = by_name["sox_pcm16_stereo.wav"]
    flac = by_name["flac_16_stereo.flac"]
    zero_crc = flac_ending_in_zero_crc_byte(flac)
    return [
        Sample("crafted: mp3 + zip", mp3_frames(cbr, 2) + zip_archive()),
        Sample("crafted: mp3 + html", mp3_frames(cbr, 2) + b"<html><body>hi</body></html>"),
        Sample("crafted: mp3 + random", mp3_frames(cbr, 2) + rng.randbytes(200_000)),
        Sample("crafted: xing 1e6", with_xing_frames(by_name["lame_vbr_v2_xing.mp3"], 1_000_000)),
        Sample("crafted: mp3 cut 5%", cbr[: len(cbr) * 95 // 100]),
        Sample("crafted: wav tag 0x1234", wav_with_fmt(pcm, tag=0x1234)),
        Sample("crafted: wav 65535 ch", wav_with_fmt(pcm, channels=65535)),
        Sample("crafted: wav 4 GHz", wav_with_fmt(pcm, rate=4_000_000_000)),
        Sample("crafted: flac 32-bit streaminfo", flac_streaminfo_bits(flac, 32)),
        Sample("crafted: flac cut by a 0x00 crc byte", zero_crc[:-1]),
    ]


def _unknown_flac_total(data: bytes) -> bool:
    at = data.find(b"fLaC")
    return at >= 0 and int.from_bytes(data[at + 21 : at + 26], "big") & 0xFFFFFFFFF == 0


def reference_plays(decoded: Decoded, data: bytes) -> bool:
    if not decoded.playable:
        return False
    if decoded.format == "flac" and decoded.sndfile_error:
        return _unknown_flac_total(data)
    return True


@dataclass
class Comparison:
    """Everything the differential run found."""

    size: int = 0
    accepted: int = 0
    false_acceptances: list[str] = field(default_factory=list)
    false_rejections: Counter[str] = field(default_factory=Counter)
    undocumented_rejections: list[str] = field(default_factory=list)
    duration_mismatches: list[str] = field(default_factory=list)
    sndfile_disagreements: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, sample: Sample, ours: AudioFileInfo | str, decoded: Decoded) -> None:
        self.size += 1
        plays = reference_plays(decoded, sample.data)
        if isinstance(ours, AudioFileInfo):
            self.accepted += 1
            if not plays:
                self.false_acceptances.append(f"{sample.name}: {decoded.reason}")
                return
            if decoded.sndfile_error:
                self.sndfile_disagreements.append(sample.name)
            off = abs(ours.duration_seconds - decoded.duration) > DURATION_TOLERANCE * max(
                decoded.duration, 0.1
            )
            if off or (ours.sample_rate, ours.channels) != (decoded.sample_rate, decoded.channels):
                self.duration_mismatches.append(
                    f"{sample.name}: ours {ours.duration_seconds:.4f} s {ours.sample_rate} Hz "
                    f"{ours.channels} ch; decoder {decoded.duration:.4f} s "
                    f"{decoded.sample_rate} Hz {decoded.channels} ch"
                )
        elif plays:
            for name, pattern in DOCUMENTED_REJECTIONS.items():
                if pattern.search(ours):
                    self.false_rejections[name] += 1
                    break
            else:
                self.undocumented_rejections.append(f"{sample.name}: {ours}")


@pytest.fixture(scope="module")
def comparison(corpus: list[Sample], by_name: dict[str, bytes]) -> Comparison:
    started = time.perf_counter()
    result = Comparison()
    for sample in [*corpus, *_crafted(by_name), *variants(corpus)]:
        ours: AudioFileInfo | str
        try:
            ours = validate_audio_file(sample.data)
        except ValidationError as exc:
            ours = str(exc)
        result.record(sample, ours, decode(sample.data))
    result.seconds = time.perf_counter() - started
    print(
        f"\naudio differential: {result.size} files ({len(corpus)} from encoders), "
        f"{result.accepted} accepted, {len(result.false_acceptances)} false acceptances, "
        f"false rejections {dict(result.false_rejections)} + "
        f"{len(result.undocumented_rejections)} undocumented, "
        f"{len(result.duration_mismatches)} duration mismatches, libsndfile disagreements "
        f"{len(result.sndfile_disagreements)}, {result.seconds:.1f} s"
    )
    return result


def test_corpus_is_large_enough(comparison: Comparison) -> None:
    assert comparison.size >= 1000


def test_no_file_the_decoder_cannot_play_is_accepted(comparison: Comparison) -> None:
    assert comparison.false_acceptances == []


def test_every_refusal_of_a_playable_file_is_a_documented_one(comparison: Comparison) -> None:
    assert comparison.undocumented_rejections == []


def test_accepted_files_have_the_decoders_duration_rate_and_channels(
    comparison: Comparison,
) -> None:
    assert comparison.duration_mismatches == []


def test_libsndfile_reads_every_accepted_encoder_file_but_streamed_flac(
    comparison: Comparison, corpus: list[Sample]
) -> None:
    encoder_files = {sample.name for sample in corpus}
    unreadable = [name for name in comparison.sndfile_disagreements if name in encoder_files]
    assert unreadable == ["ffmpeg_streamed.flac"]
