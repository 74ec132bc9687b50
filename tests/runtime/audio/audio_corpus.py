"""A corpus of audio files made by real encoders (lame, sox, flac, ffmpeg) in a temporary folder.

Every file is a few seconds long so that generating the whole corpus takes seconds. Each entry
has a name saying how it was made; :func:`variants` derives truncated and bit-flipped copies
(bounded by the constants below) with a fixed seed.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("lame", "sox", "flac", "ffmpeg")
SECONDS = 2
TRUNCATIONS_PER_FILE = 6
BIT_FLIPS_PER_FILE = 32
STRUCTURE_EDITS_PER_FILE = 8
SEED = int(os.environ.get("AUDIO_CORPUS_SEED", "20261130"))  # override to explore locally


@dataclass(frozen=True)
class Sample:
    """One corpus file."""

    name: str
    data: bytes


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


class _Maker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.samples: list[Sample] = []

    def path(self, name: str) -> Path:
        return self.folder / name

    def source(self, rate: int, channels: int, bits: int = 16, seconds: float = SECONDS) -> Path:
        out = self.path(f"src_{rate}_{channels}_{bits}_{seconds}.wav")
        if not out.exists():
            tones = [f"sine {220 * (k + 1)}" for k in range(channels)]
            _run(
                "sox", "-R", "-n", "-r", str(rate), "-c", str(channels), "-b", str(bits), str(out),
                "synth", str(seconds), *" ".join(tones).split(), "vol", "0.5",
            )  # fmt: skip
        return out

    def add(self, name: str, make: Callable[[Path], None]) -> Path:
        out = self.path(name)
        make(out)
        self.samples.append(Sample(name, out.read_bytes()))
        return out

    def add_bytes(self, name: str, data: bytes) -> None:
        self.samples.append(Sample(name, data))


def _mp3(m: _Maker) -> None:
    stereo = m.source(44100, 2)
    mono = m.source(44100, 1)
    for name, src, opts in (
        ("lame_cbr128_info.mp3", stereo, ["-b", "128"]),
        ("lame_cbr128_no_xing.mp3", stereo, ["-b", "128", "-t"]),
        ("lame_cbr320_stereo.mp3", stereo, ["-b", "320", "-m", "s"]),
        ("lame_vbr_v2_xing.mp3", stereo, ["-V", "2"]),
        ("lame_vbr_v6_no_xing.mp3", stereo, ["-V", "6", "-t"]),
        ("lame_abr96_mono.mp3", mono, ["--abr", "96"]),
        ("lame_crc_protected.mp3", stereo, ["-b", "192", "-p"]),
        ("lame_mpeg2_22050.mp3", m.source(22050, 1), ["-b", "32"]),
        ("lame_mpeg2_vbr_16000.mp3", m.source(16000, 2), ["-V", "4"]),
        ("lame_mpeg25_8000.mp3", m.source(8000, 1), ["-b", "8"]),
        ("lame_mpeg25_11025_vbr.mp3", m.source(11025, 1), ["-V", "7"]),
        ("lame_id3v1.mp3", mono, ["-b", "64", "--id3v1-only", "--tt", "Song", "--ta", "Me"]),
        ("lame_id3v2.mp3", mono, ["-b", "64", "--id3v2-only", "--tt", "Song"]),
        ("lame_mpeg1_32000.mp3", m.source(32000, 2), ["-b", "96"]),
        ("lame_mpeg1_48000.mp3", m.source(48000, 2), ["-V", "0"]),
    ):
        m.add(
            name, lambda out, src=src, opts=opts: _run("lame", "--quiet", *opts, str(src), str(out))
        )
    m.add("sox.mp3", lambda out: _run("sox", "-R", str(stereo), "-C", "192", str(out)))
    m.add("ffmpeg_lame.mp3", lambda out: _ffmpeg(stereo, out, "-c:a", "libmp3lame", "-b:a", "160k"))
    m.add(
        "ffmpeg_id3v24.mp3",
        lambda out: _ffmpeg(
            mono, out, "-c:a", "libmp3lame", "-id3v2_version", "4", "-metadata", "title=T"
        ),
    )
    m.add_bytes("ffmpeg_streamed.mp3", _ffmpeg_pipe(stereo, "-c:a", "libmp3lame", "-f", "mp3"))
    m.add("ffmpeg_shine.mp3", lambda out: _ffmpeg(stereo, out, "-c:a", "libshine", "-b:a", "128k"))
    base = (m.folder / "lame_vbr_v2_xing.mp3").read_bytes()
    m.add_bytes("id3v23_large_cover.mp3", _with_cover(base, 3))
    m.add_bytes("id3v24_large_cover.mp3", _with_cover(base, 4))
    m.add_bytes("apev2_tail.mp3", base + apev2_tag())
    m.add_bytes("lyrics3_id3v1_tail.mp3", base + lyrics3v2() + id3v1())


def _ffmpeg(src: Path, out: Path, *opts: str) -> None:
    _run("ffmpeg", "-v", "error", "-y", "-i", str(src), *opts, str(out))


def _ffmpeg_pipe(src: Path, *opts: str) -> bytes:
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), *opts, "pipe:1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return result.stdout


def _with_cover(mp3: bytes, version: int) -> bytes:
    from mutagen.id3 import APIC, ID3, TIT2

    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Cover test"]))
    cover = random.Random(SEED).randbytes(300_000)
    tag.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover))
    buffer = __import__("io").BytesIO()
    tag.save(buffer, v2_version=version)
    return buffer.getvalue() + mp3


def id3v1() -> bytes:
    return b"TAG" + b"Title".ljust(30, b"\x00") + bytes(95)


def apev2_tag() -> bytes:
    item = struct.pack("<II", 4, 0) + b"Title\x00" + b"Song"
    size = len(item) + 32
    footer = b"APETAGEX" + struct.pack("<IIII", 2000, size, 1, 0x80000000) + bytes(8)
    header = b"APETAGEX" + struct.pack("<IIII", 2000, size, 1, 0xA0000000) + bytes(8)
    return header + item + footer


def lyrics3v2() -> bytes:
    body = b"LYRICSBEGIN" + b"IND00002" + b"10"
    return body + f"{len(body):06d}".encode() + b"LYRICS200"


def _wav(m: _Maker) -> None:
    mono8k = m.source(8000, 1)
    stereo = m.source(44100, 2)
    for name, src, opts in (
        ("sox_pcm_u8.wav", mono8k, ["-b", "8"]),
        ("sox_pcm16_stereo.wav", stereo, ["-b", "16"]),
        ("sox_pcm24.wav", stereo, ["-b", "24"]),
        ("sox_pcm32.wav", stereo, ["-b", "32"]),
        ("sox_float32.wav", stereo, ["-e", "floating-point", "-b", "32"]),
        ("sox_float64.wav", mono8k, ["-e", "floating-point", "-b", "64"]),
        ("sox_mulaw.wav", mono8k, ["-e", "mu-law"]),
        ("sox_alaw.wav", mono8k, ["-e", "a-law"]),
        ("sox_ima_adpcm.wav", mono8k, ["-e", "ima-adpcm"]),
        ("sox_ms_adpcm.wav", mono8k, ["-e", "ms-adpcm"]),
        ("sox_ms_adpcm_stereo.wav", m.source(22050, 2), ["-e", "ms-adpcm"]),
        ("sox_gsm.wav", mono8k, ["-e", "gsm-full-rate"]),
        ("sox_6ch_extensible.wav", m.source(48000, 6), ["-b", "16"]),
        ("sox_8ch_extensible.wav", m.source(48000, 8), ["-b", "24"]),
        ("sox_comment_list.wav", mono8k, ["--comment", "A LIST chunk comment"]),
    ):
        m.add(name, lambda out, src=src, opts=opts: _run("sox", "-R", str(src), *opts, str(out)))
    m.add_bytes(
        "sox_streamed.wav",
        subprocess.run(
            ["sox", "-R", str(mono8k), "-t", "wav", "-"], check=True, capture_output=True
        ).stdout,
    )
    for name, codec in (
        ("ffmpeg_pcm16.wav", "pcm_s16le"),
        ("ffmpeg_pcm24.wav", "pcm_s24le"),
        ("ffmpeg_float.wav", "pcm_f32le"),
        ("ffmpeg_ima.wav", "adpcm_ima_wav"),
        ("ffmpeg_msadpcm.wav", "adpcm_ms"),
        ("ffmpeg_gsm_ms.wav", "libgsm_ms"),
    ):
        src = mono8k if codec == "libgsm_ms" else stereo
        m.add(name, lambda out, src=src, codec=codec: _ffmpeg(src, out, "-c:a", codec))
    m.add_bytes("ffmpeg_streamed.wav", _ffmpeg_pipe(stereo, "-f", "wav"))
    m.add("ffmpeg_rf64.wav", lambda out: _ffmpeg(stereo, out, "-rf64", "always"))
    pcm = (m.folder / "sox_pcm16_stereo.wav").read_bytes()
    m.add_bytes("odd_chunk_padding.wav", with_odd_chunk(pcm))


def with_odd_chunk(wav: bytes) -> bytes:
    """Insert a chunk of odd size (with its pad byte) before 'fmt '."""
    chunk = b"note" + struct.pack("<I", 5) + b"hello" + b"\x00"
    data = wav[:12] + chunk + wav[12:]
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def _flac(m: _Maker) -> None:
    stereo16 = m.source(44100, 2)
    for name, src, opts in (
        ("flac_16_stereo.flac", stereo16, []),
        ("flac_24_stereo.flac", m.source(48000, 2, 24), []),
        ("flac_8bit_mono.flac", m.source(8000, 1, 8), []),
        ("flac_level0.flac", stereo16, ["-0"]),
        ("flac_level8.flac", stereo16, ["-8"]),
        ("flac_blocksize_1152.flac", stereo16, ["--blocksize=1152"]),
        ("flac_no_seektable_no_padding.flac", stereo16, ["-S-", "--no-padding"]),
        ("flac_3ch.flac", m.source(48000, 3), ["--channel-map=none"]),
        ("flac_6ch.flac", m.source(48000, 6, seconds=1), ["--channel-map=none"]),
        ("flac_8ch.flac", m.source(48000, 8, seconds=1), ["--channel-map=none"]),
        ("flac_96k_24.flac", m.source(96000, 2, 24, seconds=1), []),
        ("flac_192k_24.flac", m.source(192000, 2, 24, seconds=1), []),
        ("flac_tags.flac", stereo16, ["-T", "TITLE=Song", "-T", "ARTIST=Me"]),
    ):
        m.add(
            name,
            lambda out, src=src, opts=opts: _run(
                "flac", "-s", "-f", *opts, "-o", str(out), str(src)
            ),
        )
    cover = m.path("cover.png")
    _run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=320x240",
         "-frames:v", "1", str(cover))  # fmt: skip
    m.add(
        "flac_picture.flac",
        lambda out: _run("flac", "-s", "-f", f"--picture={cover}", "-o", str(out), str(stereo16)),
    )
    m.add("sox.flac", lambda out: _run("sox", "-R", str(stereo16), str(out)))
    m.add("ffmpeg.flac", lambda out: _ffmpeg(stereo16, out))
    m.add_bytes("ffmpeg_streamed.flac", _ffmpeg_pipe(stereo16, "-f", "flac"))
    base = (m.folder / "flac_16_stereo.flac").read_bytes()
    m.add_bytes("flac_id3v1_tail.flac", base + id3v1())
    m.add_bytes("flac_apev2_tail.flac", base + apev2_tag())


def _others(m: _Maker) -> None:
    mono = m.source(44100, 1, seconds=1)
    for name, opts in (
        ("aiff.aiff", []),
        ("ogg_vorbis.ogg", ["-c:a", "libvorbis"]),
        ("ogg_flac.oga", ["-c:a", "flac"]),
        ("m4a_aac.m4a", ["-c:a", "aac"]),
        ("m4a_alac.m4a", ["-c:a", "alac"]),
        ("wma.wma", ["-c:a", "wmav2"]),
        ("mp2.mp2", ["-c:a", "mp2"]),
    ):
        m.add(name, lambda out, opts=opts: _ffmpeg(mono, out, "-fflags", "+bitexact", *opts))


def build(folder: Path) -> list[Sample]:
    """Make the real-encoder corpus in ``folder``."""
    maker = _Maker(folder)
    for part in (_mp3, _wav, _flac, _others):
        part(maker)
    return maker.samples


def variants(samples: list[Sample]) -> Iterator[Sample]:
    """Truncated and bit-flipped copies: TRUNCATIONS_PER_FILE and BIT_FLIPS_PER_FILE each."""
    rng = random.Random(SEED)
    for sample in samples:
        data = sample.data
        cuts = [len(data) - 1, len(data) - 2, len(data) * 9 // 10, len(data) // 2]
        cuts += [rng.randrange(1, len(data)) for _ in range(TRUNCATIONS_PER_FILE - len(cuts))]
        for cut in cuts[:TRUNCATIONS_PER_FILE]:
            yield Sample(f"{sample.name}[:{cut}]", data[:cut])
        for index in range(BIT_FLIPS_PER_FILE):
            # Half the flips hit the first 4 KB (headers, first frames), half anywhere.
            span = min(len(data), 4096) if index % 2 == 0 else len(data)
            position, bit = rng.randrange(span), rng.randrange(8)
            flipped = bytearray(data)
            flipped[position] ^= 1 << bit
            yield Sample(f"{sample.name}^{position}.{bit}", bytes(flipped))
        for index in range(STRUCTURE_EDITS_PER_FILE):
            yield _structure_edit(sample, rng, index)


def _structure_edit(sample: Sample, rng: random.Random, index: int) -> Sample:
    """Flip a bit in a mid-stream frame header, or drop or insert a byte inside the stream."""
    data = sample.data
    middle = rng.randrange(len(data) // 4, max(len(data) * 3 // 4, len(data) // 4 + 1))
    if index % 3 == 0:
        sync = data.find(b"\xff", middle)
        if sync >= 0 and sync + 4 <= len(data):
            position, bit = sync + rng.randrange(4), rng.randrange(8)
            edited = bytearray(data)
            edited[position] ^= 1 << bit
            return Sample(f"{sample.name}^sync{position}.{bit}", bytes(edited))
    if index % 3 == 1:
        return Sample(f"{sample.name}-{middle}", data[:middle] + data[middle + 1 :])
    return Sample(f"{sample.name}+{middle}", data[:middle] + b"\x00" + data[middle:])
