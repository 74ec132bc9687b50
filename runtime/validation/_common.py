"""What the audio checkers share: their result, the work caps and plain-text naming helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from runtime.errors import ValidationError

#: Hard caps on the structures examined per MB of the size limit (a 10 MB limit allows ten
#: times these); a file needing more is refused with a message saying so. Real music stays far
#: below them (see docs/audio.md).
MP3_FRAMES_PER_MB: Final = 8_000  # 128 kbit/s is ~2,500 frames per MB; 8 kbit/s MPEG-2.5 ~21,800
FLAC_FRAMES_PER_MB: Final = 2_000  # 4096-sample frames of 16-bit stereo are ~100-250 per MB
WAV_MAX_CHUNKS: Final = 256
FLAC_MAX_METADATA_BLOCKS: Final = 256
FLAC_MAX_COMMENTS: Final = 10_000
ID3V2_MAX_TAGS: Final = 4
MP3_RESYNC_WINDOW: Final = 65_536  # how far past an ID3v2 tag a misplaced first frame is named


@dataclass(frozen=True, slots=True)
class StreamFacts:
    """What a structure walk proved: the playing time, sample rate and channel count."""

    duration_seconds: float
    sample_rate: int
    channels: int


def refuse(message: str) -> ValidationError:
    """Build the error for a refused file (a tiny helper so checkers read as ``raise refuse``)."""
    return ValidationError(message)


def chunk_name(raw: bytes) -> str:
    """Name a four-byte chunk id in plain text, never echoing raw binary bytes."""
    if len(raw) == 4 and all(0x20 <= b < 0x7F for b in raw):
        return f"'{raw.decode('ascii')}'"
    return "a chunk whose id is not text"


def seconds(samples: int, rate: int) -> str:
    """Format a sample count as seconds for a message."""
    return f"{samples / rate:.2f} s"
