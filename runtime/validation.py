"""Input validation shared by the API and the workers: audio uploads, prompts, file sizes.

Usage::

    from runtime.validation import validate_audio_file, validate_file_size, validate_prompt

    info = validate_audio_file(upload.file, max_size_mb=10)
    info.format, info.mime_type, info.duration_seconds   # "mp3", "audio/mpeg", 181.3

    prompt = validate_prompt(raw_prompt, min_length=50, max_length=500)  # the cleaned prompt

    validate_file_size(size_bytes, max_size_bytes=10 * 1024 * 1024)

Every function raises :class:`runtime.errors.ValidationError` saying what was wrong and what is
allowed. Audio is recognised from its content (magic bytes), never from a file name or a claimed
MIME type, and then proved by parsing it with mutagen's class for that format: the file must
yield a positive duration, a sample rate and a channel count. Sizes use binary megabytes
(1 MB = 1,048,576 bytes).
"""

from __future__ import annotations

import io
import os
import struct
import unicodedata
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal

from runtime import _extras
from runtime.errors import ValidationError

__all__ = [
    "AUDIO_FORMATS",
    "AUDIO_MIME_TYPES",
    "AudioFileInfo",
    "AudioFormat",
    "validate_audio_file",
    "validate_file_size",
    "validate_prompt",
]

AudioFormat = Literal["mp3", "wav", "flac"]
AUDIO_FORMATS: Final[tuple[AudioFormat, ...]] = ("mp3", "wav", "flac")
AUDIO_MIME_TYPES: Final[dict[str, str]] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
}
_MIME_ALIASES: Final[dict[str, frozenset[str]]] = {
    "mp3": frozenset({"audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3", "audio/x-mp3"}),
    "wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    "flac": frozenset({"audio/flac", "audio/x-flac"}),
}
_GENERIC_MIME_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream"})
_MB: Final = 1024 * 1024
_MAX_SIZE_LIMIT_MB: Final = 1024
_MAX_ID3_PADDING: Final = 4096
_PLAIN_WHITESPACE: Final = frozenset(" \t\n\r")
_MIN_PRESENT_FRACTION: Final = 0.9  # of the bytes an MP3's duration and bitrate imply

# What other common files start with, to say what an upload really is.
_KNOWN_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or Office document)"),
    (0, b"\x7fELF", "an ELF executable"),
    (0, b"MZ", "a Windows executable"),
    (0, b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (0, b"#!", "a script"),
    (0, b"OggS", "an Ogg file (Vorbis/Opus are not accepted)"),
    (4, b"ftyp", "an MP4/M4A file (AAC is not accepted)"),
    (0, b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
)

# MPEG audio Layer III bitrates in kbit/s by [MPEG-1?][index] and sample rates by version.
_MP3_BITRATES: Final = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0),
}
_MP3_SAMPLE_RATES: Final = {
    3: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    0: (11025, 12000, 8000),
}


@dataclass(frozen=True, slots=True)
class AudioFileInfo:
    """What :func:`validate_audio_file` proved about a file.

    Attributes:
        format: ``"mp3"``, ``"wav"`` or ``"flac"``, from the content.
        mime_type: The canonical MIME type of that format (``audio/mpeg``, ``audio/wav``,
            ``audio/flac``).
        size_bytes: The file's size.
        duration_seconds: Playing time, above zero.
        sample_rate: Samples per second (Hz).
        channels: Number of audio channels.
    """

    format: AudioFormat
    mime_type: str
    size_bytes: int
    duration_seconds: float
    sample_rate: int
    channels: int


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------


def _human(size: int) -> str:
    return f"{size / _MB:.1f} MB ({size} bytes)"


def validate_file_size(size: int, max_size_bytes: int, *, min_size_bytes: int = 1) -> int:
    """Check that a size in bytes is within bounds.

    Args:
        size: The size to check, in bytes.
        max_size_bytes: The largest size allowed.
        min_size_bytes: The smallest size allowed (default 1: empty files are refused).

    Returns:
        ``size``, unchanged.

    Raises:
        ValidationError: ``size`` is not a non-negative integer, is below ``min_size_bytes``
            (an empty file) or above ``max_size_bytes``.
        ValueError: The bounds themselves are invalid (a programming error).
    """
    for name, bound in (("max_size_bytes", max_size_bytes), ("min_size_bytes", min_size_bytes)):
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise ValueError(f"{name} must be a non-negative int, got {bound!r}")
    if min_size_bytes > max_size_bytes:
        raise ValueError("min_size_bytes must not exceed max_size_bytes")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValidationError(f"File size must be a whole number of bytes >= 0, got {size!r}.")
    if size < min_size_bytes:
        if size == 0:
            raise ValidationError("File is empty; upload a file with content.")
        raise ValidationError(
            f"File is too small: {size} bytes; the minimum is {min_size_bytes} bytes."
        )
    if size > max_size_bytes:
        raise ValidationError(
            f"File is too large: {_human(size)}; the maximum is {_human(max_size_bytes)}."
        )
    return size


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------

_ALLOWED_FORMAT_CHARS: Final = frozenset({"\u200d"})  # zero-width joiner inside emoji sequences


def validate_prompt(prompt: str, min_length: int = 50, max_length: int = 500) -> str:
    """Clean a user prompt and check its length and characters.

    The prompt is Unicode-normalised (NFC), every run of whitespace (spaces, tabs, newlines)
    becomes one space and the ends are stripped, so padding cannot make a short prompt long
    enough. Lengths count Unicode code points of the cleaned text.

    Args:
        prompt: The text the user typed.
        min_length: Fewest characters allowed after cleaning (default 50).
        max_length: Most characters allowed after cleaning (default 500).

    Returns:
        The cleaned prompt, which callers should store and use.

    Raises:
        ValidationError: The prompt is not text, contains control, invisible formatting or
            bidirectional-override characters, or is shorter/longer than allowed.
        ValueError: The bounds are invalid (a programming error).
    """
    for name, bound in (("min_length", min_length), ("max_length", max_length)):
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise ValueError(f"{name} must be a non-negative int, got {bound!r}")
    if min_length > max_length:
        raise ValueError("min_length must not exceed max_length")
    if not isinstance(prompt, str):
        raise ValidationError(f"Prompt must be text, got {type(prompt).__name__}.")
    text = unicodedata.normalize("NFC", prompt)
    for index, char in enumerate(text):
        if char in _PLAIN_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category == "Zs":  # spaces (no-break, ideographic...) collapse to one space below
            continue
        if category in ("Cc", "Zl", "Zp"):
            raise ValidationError(
                f"Prompt contains a control character (U+{ord(char):04X}) at position "
                f"{index}; use printable text only."
            )
        if category == "Cs":
            raise ValidationError("Prompt contains an invalid (surrogate) character.")
        if category == "Cf" and char not in _ALLOWED_FORMAT_CHARS:
            raise ValidationError(
                f"Prompt contains an invisible formatting character (U+{ord(char):04X}, "
                f"{unicodedata.name(char, 'unnamed')}) at position {index}; remove it."
            )
        if category in ("Co", "Cn"):
            raise ValidationError(
                f"Prompt contains a private-use or unassigned character (U+{ord(char):04X}) at "
                f"position {index}; use standard characters only."
            )
    cleaned = " ".join(text.split())
    length = len(cleaned)
    allowed = f"it must be {min_length} to {max_length} characters"
    if length < min_length:
        raise ValidationError(
            f"Prompt is too short: {length} characters after trimming whitespace; {allowed}."
        )
    if length > max_length:
        raise ValidationError(f"Prompt is too long: {length} characters; {allowed}.")
    return cleaned


# ---------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------


def _read_limited(source: object, limit: int) -> bytes:
    """Read at most ``limit`` bytes from bytes, a path or a binary file object."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:limit])
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            with path.open("rb") as handle:
                return _read_stream(handle, limit)
        except FileNotFoundError as exc:
            raise ValidationError(f"Audio file not found: {path.name}.") from exc
        except IsADirectoryError as exc:
            raise ValidationError(f"{path.name} is a directory, not an audio file.") from exc
        except OSError as exc:
            raise ValidationError(
                f"Audio file {path.name} cannot be read: {exc.strerror}."
            ) from exc
    inner = getattr(source, "file", None)
    if inner is not None and callable(getattr(inner, "read", None)):
        source = inner  # FastAPI's UploadFile (async read) and tempfile wrappers
    if not callable(getattr(source, "read", None)):
        raise TypeError(
            "validate_audio_file expects bytes, a path or a binary file object, "
            f"got {type(source).__name__}"
        )
    stream: IO[bytes] = source  # type: ignore[assignment]
    position: int | None = None
    try:
        if stream.seekable():
            position = stream.tell()
    except (OSError, ValueError, AttributeError):
        position = None
    try:
        return _read_stream(stream, limit)
    finally:
        if position is not None:
            stream.seek(position)


def _read_stream(stream: IO[bytes], limit: int) -> bytes:
    """Read up to ``limit`` bytes, holding them once.

    Files and ``BytesIO`` hand everything over in the first ``read``, which ``b"".join`` then
    returns without copying; pipes and sockets give shorter reads and loop.
    """
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk: Any = stream.read(remaining)
        if isinstance(chunk, str):
            raise ValidationError("The file object is in text mode; open it in binary mode ('rb').")
        if not chunk:
            break
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError(f"read() returned {type(chunk).__name__}, expected bytes")
        chunks.append(chunk if type(chunk) is bytes else bytes(chunk))
        remaining -= len(chunk)
    return b"".join(chunks)


def _id3_end(data: bytes) -> int:
    """Return where audio starts after a leading ID3v2 tag (0 when there is none)."""
    if not data.startswith(b"ID3"):
        return 0
    if len(data) < 10:
        raise ValidationError("The file has a truncated ID3 tag header and no audio.")
    size_bytes = data[6:10]
    if any(b & 0x80 for b in size_bytes):
        raise ValidationError("The file's ID3 tag header is corrupt (invalid size field).")
    size = 0
    for byte in size_bytes:
        size = (size << 7) | byte
    end = 10 + size + (10 if data[5] & 0x10 else 0)
    while end < len(data) and end < 10 + size + _MAX_ID3_PADDING and data[end] == 0:
        end += 1
    if end >= len(data):
        raise ValidationError(
            "The file is only an ID3 tag with no audio frames after it; upload the audio itself."
        )
    return end


def _mp3_frame_length(header: bytes) -> int | None:
    """Return the byte length of the MPEG Layer III frame starting with ``header``, or None."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 = reserved
    layer = (header[1] >> 1) & 0x3  # 1 = Layer III
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _MP3_BITRATES[mpeg1][bitrate_index] * 1000
    sample_rate = _MP3_SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 0x1
    return (144 if mpeg1 else 72) * bitrate // sample_rate + padding


def _check_mp3_frames(data: bytes, start: int) -> None:
    length = _mp3_frame_length(data[start : start + 4])
    if length is None:  # pragma: no cover - _detect only sends frame-sync starts here
        raise ValidationError("The MP3 data does not start with a valid MPEG audio frame.")
    if start + length > len(data):
        raise ValidationError("The MP3 file is truncated: its first audio frame is incomplete.")
    following = data[start + length : start + length + 4]
    if len(following) == 4 and _mp3_frame_length(following) is None:
        raise ValidationError(
            "The file is not a valid MP3: the first audio frame is not followed by another."
        )


def _check_wav_chunks(data: bytes) -> None:
    """Check that the RIFF and chunk sizes agree with the bytes actually present."""
    if len(data) < 12:
        raise ValidationError("The WAV file is truncated: its RIFF header is incomplete.")
    declared_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if declared_end > len(data):
        raise ValidationError(
            f"The WAV header says the file is {declared_end} bytes but it has {len(data)}; "
            "the file is truncated or its header is wrong."
        )
    position = 12
    seen_fmt = False
    data_size: int | None = None
    while position + 8 <= declared_end:
        chunk_id = data[position : position + 4]
        chunk_size = struct.unpack_from("<I", data, position + 4)[0]
        body_end = position + 8 + chunk_size
        if body_end > declared_end:
            name = chunk_id.decode("latin-1").strip()
            raise ValidationError(
                f"The WAV '{name}' chunk claims {chunk_size} bytes, past the end of the file; "
                "the file is truncated or its header is wrong."
            )
        if chunk_id == b"fmt ":
            if chunk_size < 16:
                raise ValidationError("The WAV 'fmt ' chunk is too short.")
            seen_fmt = True
        elif chunk_id == b"data":
            if not seen_fmt:
                raise ValidationError("The WAV file has audio data before its 'fmt ' chunk.")
            data_size = chunk_size
        position = body_end + (chunk_size & 1)
    if not seen_fmt:
        raise ValidationError("The WAV file has no 'fmt ' chunk describing its audio.")
    if not data_size:
        raise ValidationError("The WAV file has no audio samples ('data' chunk missing or empty).")


def _check_flac_frames(data: bytes, start: int) -> None:
    """Walk the FLAC metadata blocks and check the audio frames after them.

    An audio frame must follow the metadata, and the last frame present must reach the end of
    the stream that STREAMINFO announces.
    """
    position = start + 4
    streaminfo: bytes | None = None
    while True:
        if position + 4 > len(data):
            raise ValidationError("The FLAC file is truncated inside its metadata.")
        header = data[position]
        length = int.from_bytes(data[position + 1 : position + 4], "big")
        if header & 0x7F == 0 and length >= 34:
            streaminfo = data[position + 4 : position + 4 + 34]
        position += 4 + length
        if header & 0x80:
            break
    if position + 2 > len(data) or data[position] != 0xFF or data[position + 1] & 0xFC != 0xF8:
        raise ValidationError("The FLAC file has metadata but no audio frames.")
    if streaminfo is not None and len(streaminfo) == 34:
        _check_flac_complete(data, position, streaminfo)


def _crc8(data: bytes) -> int:
    """CRC-8 with polynomial x^8 + x^2 + x + 1, as FLAC frame headers use."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC16: Final = _crc16_table()


def _crc16(data: bytes) -> int:
    """CRC-16 with polynomial x^16 + x^15 + x^2 + 1, as FLAC frame footers use."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _flac_frame_span(data: bytes, at: int, fixed_block: int) -> tuple[int, int] | None:
    """Parse the FLAC frame header at ``at``; return (first sample, samples) or ``None``.

    A header is only believed when its CRC-8 matches, so stray ``FF F8`` bytes inside audio
    data are not taken for a frame.
    """
    if at + 6 > len(data) or data[at] != 0xFF or data[at + 1] & 0xFE != 0xF8:
        return None
    variable = data[at + 1] & 0x01
    block_code, rate_code = data[at + 2] >> 4, data[at + 2] & 0x0F
    if block_code == 0 or rate_code == 15 or data[at + 3] & 0x01:
        return None
    first = data[at + 4]
    extra = 0
    while extra < 7 and first & (0x80 >> extra):
        extra += 1
    if extra == 1 or extra > 7:
        return None
    width = 1 if extra == 0 else extra
    cursor = at + 4 + width
    if cursor > len(data):
        return None
    number = first & (0x7F >> extra) if extra else first
    for byte in data[at + 5 : cursor]:
        if byte & 0xC0 != 0x80:
            return None
        number = (number << 6) | (byte & 0x3F)
    if block_code == 1:
        block = 192
    elif block_code <= 5:
        block = 576 << (block_code - 2)
    elif block_code in (6, 7):
        size = 1 if block_code == 6 else 2
        block = int.from_bytes(data[cursor : cursor + size], "big") + 1
        cursor += size
    else:
        block = 256 << (block_code - 8)
    cursor += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if cursor >= len(data) or _crc8(data[at:cursor]) != data[cursor]:
        return None
    return (number if variable else number * fixed_block), block


def _check_flac_complete(data: bytes, audio_start: int, streaminfo: bytes) -> None:
    """Refuse a FLAC whose last frame ends before the total sample count STREAMINFO states."""
    max_block = int.from_bytes(streaminfo[2:4], "big")
    max_frame = int.from_bytes(streaminfo[7:10], "big")
    sample_rate = int.from_bytes(streaminfo[10:13], "big") >> 4
    total = int.from_bytes(streaminfo[13:18], "big") & 0xFFFFFFFFF
    if total == 0 or sample_rate == 0 or max_block == 0:
        return  # unknown length: nothing to compare with (zero samples is refused elsewhere)
    window = max(max_frame, 16 * 1024) * 2 if max_frame else 1024 * 1024
    at = len(data) - 2
    floor = max(audio_start, len(data) - window)
    while at >= floor:
        at = data.rfind(b"\xff", floor, at + 1)
        if at < 0:
            break
        span = _flac_frame_span(data, at, max_block)
        if span is not None:
            end = span[0] + span[1]
            if end < total:
                raise ValidationError(
                    f"The FLAC file is truncated: its header describes {total / sample_rate:.2f} s "
                    f"of audio but its frames stop at {end / sample_rate:.2f} s."
                )
            # The last frame runs to the end of the file (or to an ID3v1 tag) and its CRC-16
            # footer covers all of it: a cut inside the last frame breaks it.
            stop = len(data) - 128 if data[-128:-125] == b"TAG" else len(data)
            if stop - at < 4 or _crc16(data[at : stop - 2]) != int.from_bytes(
                data[stop - 2 : stop], "big"
            ):
                raise ValidationError("The FLAC file is truncated inside its last audio frame.")
            return
        at -= 1
    raise ValidationError("The FLAC file is truncated: no complete audio frame near its end.")


def _or_list(formats: Collection[str]) -> str:
    names = [f.upper() for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _describe_content(data: bytes) -> str:
    for offset, magic, description in _KNOWN_SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return f"the content is {description}"
    if data[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "the content is AAC audio, which is not accepted"
    return "the content is not a recognised audio format"


def _detect(data: bytes) -> tuple[AudioFormat, int]:
    """Return the format and the offset where its data starts (after an ID3 tag)."""
    if data.startswith(b"RIFF") or data.startswith(b"RIFX"):
        if len(data) < 12:
            raise ValidationError("The WAV file is truncated: its RIFF header is incomplete.")
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return "wav", 0
    if data.startswith(b"fLaC"):
        return "flac", 0
    start = _id3_end(data)
    if data[start : start + 4] == b"fLaC":
        return "flac", start
    if _mp3_frame_length(data[start : start + 4]) is not None:
        return "mp3", start
    if start and len(data) - start < 4:
        raise ValidationError("The MP3 file is truncated right after its ID3 tag.")
    allowed = _or_list(AUDIO_FORMATS)
    where = " after its ID3 tag" if start else ""
    raise ValidationError(
        f"Unsupported audio format: {_describe_content(data[start:])}{where}. "
        f"Upload {allowed} audio."
    )


def _parse(kind: AudioFormat, data: bytes) -> tuple[float, int, int, int]:
    """Parse with mutagen's class for the format.

    Returns (duration in seconds, sample rate, channels, average bitrate in bit/s or 0).
    """
    _extras.require("audio", "runtime.validation.validate_audio_file")
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    parser: Any = {"mp3": MP3, "wav": WAVE, "flac": FLAC}[kind]
    try:
        parsed = parser(io.BytesIO(data))
    except Exception as exc:  # malformed input can make a parser raise anything
        detail = str(exc).strip() or type(exc).__name__
        raise ValidationError(
            f"The file looks like {kind.upper()} but cannot be parsed ({detail}); "
            "it is corrupt or truncated."
        ) from exc
    info = parsed.info
    duration = float(getattr(info, "length", 0.0) or 0.0)
    sample_rate = int(getattr(info, "sample_rate", 0) or 0)
    channels = int(getattr(info, "channels", 0) or 0)
    bitrate = int(getattr(info, "bitrate", 0) or 0)
    if not duration > 0:
        raise ValidationError(f"The {kind.upper()} file contains no audio (its duration is 0).")
    if sample_rate <= 0 or channels <= 0:
        raise ValidationError(
            f"The {kind.upper()} file has no valid sample rate or channel count; it is corrupt."
        )
    return duration, sample_rate, channels, bitrate


@contextmanager
def _saying_what_is_accepted(allowed_text: str) -> Iterator[None]:
    """Add what is accepted to a ValidationError that only says what is wrong."""
    try:
        yield
    except ValidationError as exc:
        if "upload" in exc.message.lower():
            raise
        raise ValidationError(
            f"{exc.message} Upload a complete, playable {allowed_text} file."
        ) from exc


def _check_declared_type(kind: AudioFormat, declared_mime_type: str | None) -> None:
    if declared_mime_type is None:
        return
    claimed = declared_mime_type.split(";", 1)[0].strip().lower()
    if claimed not in _GENERIC_MIME_TYPES and claimed not in _MIME_ALIASES[kind]:
        raise ValidationError(
            f"The declared type {claimed or '(empty)'} does not match the content, which is "
            f"{kind.upper()} ({AUDIO_MIME_TYPES[kind]})."
        )


def _prove(kind: AudioFormat, data: bytes, start: int) -> tuple[float, int, int]:
    """Check the container structure, then parse; return (duration, sample rate, channels)."""
    if kind == "wav":
        _check_wav_chunks(data)
    elif kind == "flac":
        _check_flac_frames(data, start)
    else:
        _check_mp3_frames(data, start)
    duration, sample_rate, channels, bitrate = _parse(kind, data)
    if kind == "mp3" and bitrate > 0:
        # An Xing/VBRI header states the whole stream's length; the bytes must be there too.
        expected_bytes = duration * bitrate / 8
        if len(data) - start < _MIN_PRESENT_FRACTION * expected_bytes:
            raise ValidationError(
                f"The MP3 file is truncated: its header describes {duration:.1f} s of audio "
                f"(about {int(expected_bytes)} bytes) but only {len(data) - start} bytes follow."
            )
    return duration, sample_rate, channels


def validate_audio_file(
    file: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Any,
    max_size_mb: float = 10,
    *,
    allowed_formats: Collection[str] = AUDIO_FORMATS,
    declared_mime_type: str | None = None,
) -> AudioFileInfo:
    """Prove that ``file`` is a real MP3, WAV or FLAC file within the size limit.

    At most ``max_size_mb`` MB + 1 byte is read, so an oversized upload is refused without
    reading it all. A file object is read from its current position, which is restored afterwards
    when it is seekable (so a caller can still store the upload); a FastAPI ``UploadFile`` is read
    through its ``.file``.

    Args:
        file: The audio as bytes, a path, or a binary file object.
        max_size_mb: Largest size accepted, in MB (1 MB = 1,048,576 bytes); above 0, at most
            1024.
        allowed_formats: Formats to accept, a subset of ``("mp3", "wav", "flac")``.
        declared_mime_type: The MIME type the client claimed, if any. It never decides the
            format, but a claim that contradicts the content (``image/png`` for an MP3) is
            refused; ``application/octet-stream`` is accepted.

    Returns:
        The format, canonical MIME type, size, duration, sample rate and channel count.

    Raises:
        ValidationError: The file is missing, empty, too large, not one of the allowed formats,
            truncated, corrupt, has no audio, or contradicts ``declared_mime_type``.
        TypeError: ``file`` is none of the accepted kinds (a programming error).
        ValueError: ``max_size_mb`` or ``allowed_formats`` is invalid.
    """
    if isinstance(max_size_mb, bool) or not isinstance(max_size_mb, int | float):
        raise ValueError(f"max_size_mb must be a number, got {max_size_mb!r}")
    if not 0 < max_size_mb <= _MAX_SIZE_LIMIT_MB:
        raise ValueError(f"max_size_mb must be above 0 and at most {_MAX_SIZE_LIMIT_MB}")
    wanted = {f.lower() for f in allowed_formats}
    if not wanted or not wanted <= set(AUDIO_FORMATS):
        raise ValueError(f"allowed_formats must be a non-empty subset of {AUDIO_FORMATS}")
    max_bytes = int(max_size_mb * _MB)

    data = _read_limited(file, max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            f"Audio file is too large: more than {_human(max_bytes)}; "
            f"the maximum is {max_size_mb:g} MB."
        )
    validate_file_size(len(data), max_bytes)

    allowed_text = _or_list([f for f in AUDIO_FORMATS if f in wanted])
    with _saying_what_is_accepted(allowed_text):
        kind, start = _detect(data)
    if kind not in wanted:
        raise ValidationError(f"{kind.upper()} files are not accepted here; upload {allowed_text}.")
    _check_declared_type(kind, declared_mime_type)
    with _saying_what_is_accepted(allowed_text):
        duration, sample_rate, channels = _prove(kind, data, start)
    return AudioFileInfo(
        format=kind,
        mime_type=AUDIO_MIME_TYPES[kind],
        size_bytes=len(data),
        duration_seconds=duration,
        sample_rate=sample_rate,
        channels=channels,
    )
