"""The reference decoder the differential test compares with: FFmpeg (through PyAV).

A file is *playable* when FFmpeg's demuxer names it MP3, WAV or FLAC, every packet demuxes and
decodes without an error (the strict reading: a decoder error anywhere means the file does not
decode completely), and it yields samples. The duration is FFmpeg's decoded sample count over its
sample rate. libsndfile (through soundfile, which librosa reads WAV and FLAC with) is asked too,
and its disagreements are reported separately.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import soundfile

ACCEPTED = {"mp3", "wav", "flac"}


@dataclass(frozen=True)
class Decoded:
    """What the reference decoders made of one file."""

    playable: bool
    format: str | None = None
    sample_rate: int = 0
    channels: int = 0
    samples: int = 0
    reason: str = ""
    sndfile_error: str = ""

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate if self.sample_rate else 0.0


def _ffmpeg(data: bytes) -> Decoded:
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="replace") as container:
            name = container.format.name.split(",")[0]
            if not container.streams.audio:
                return Decoded(False, name, reason="no audio stream")
            stream = container.streams.audio[0]
            samples = rate = channels = 0
            for packet in container.demux(stream):
                for frame in packet.decode():
                    samples += frame.samples
                    rate, channels = frame.sample_rate, frame.layout.nb_channels
            codec = stream.codec_context.name
    except (av.FFmpegError, ValueError, OSError) as exc:
        return Decoded(False, reason=f"ffmpeg: {type(exc).__name__}")
    if name not in ACCEPTED:
        return Decoded(False, name, reason=f"format {name}")
    if name == "mp3" and not codec.startswith("mp3"):
        return Decoded(False, name, reason=f"codec {codec} (not MPEG Layer III)")
    if samples == 0:
        return Decoded(False, name, reason="no samples")
    return Decoded(True, name, rate, channels, samples, reason=codec)


def _sndfile_reads(data: bytes) -> str:
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as handle:
            if handle.seekable():
                handle.read(dtype="int16")  # all at once, as librosa reads
            else:  # GSM 6.10: libsndfile reads it only in blocks
                while len(handle.read(1 << 16, dtype="int16")):
                    pass
    except (RuntimeError, TypeError, ValueError, MemoryError) as exc:  # LibsndfileError: Runtime
        return f"libsndfile: {type(exc).__name__}"
    return ""


def decode(data: bytes) -> Decoded:
    """Decode ``data`` with the reference decoders."""
    result = _ffmpeg(data)
    if result.playable and result.format in ("wav", "flac"):
        failure = _sndfile_reads(data)
        if failure:
            return Decoded(**{**result.__dict__, "sndfile_error": failure})
    return result
