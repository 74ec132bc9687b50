"""Audio uploads: accept exactly the MP3, WAV and FLAC files a real decoder plays to the end.

:func:`validate_audio_file` reports the format, sample rate, channels and duration the reference
decoder (FFmpeg; for WAV and FLAC also libsndfile, which librosa reads through) produces.

The file is recognised from its content, never its name or claimed type, then its whole
structure is walked without decoding the samples: every MP3 frame header (and its side
information), every WAV chunk (with the coding against an allow-list), every FLAC metadata block
and every FLAC frame header and CRC-16. Each walk has a hard cap on what it examines, so any
input up to 10 MB is decided in bounded time (see docs/audio.md for the design and figures).
Sizes use binary megabytes (1 MB = 1,048,576 bytes).
"""

from __future__ import annotations

import io
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from runtime.errors import ValidationError
from runtime.validation._common import FLAC_FRAMES_PER_MB, MP3_FRAMES_PER_MB
from runtime.validation._flac import check_flac
from runtime.validation._mp3 import check_mp3
from runtime.validation._sniff import (
    AudioFormat,
    describe_content,
    detect,
    misplaced_mp3_start,
)
from runtime.validation._tags import skip_id3v2, trailing_tags_start
from runtime.validation._wav import check_wav
from runtime.validation.prompt import validate_file_size

__all__ = [
    "AUDIO_FORMATS",
    "AUDIO_MIME_TYPES",
    "AudioFileInfo",
    "AudioFormat",
    "validate_audio_file",
]

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


@dataclass(frozen=True, slots=True)
class AudioFileInfo:
    """What :func:`validate_audio_file` proved about a file.

    Attributes:
        format: ``"mp3"``, ``"wav"`` or ``"flac"``, from the content.
        mime_type: The canonical MIME type of that format (``audio/mpeg``, ``audio/wav``,
            ``audio/flac``).
        size_bytes: The file's size.
        duration_seconds: Playing time as the decoder produces it, above zero.
        sample_rate: Samples per second (Hz).
        channels: Number of audio channels.
    """

    format: AudioFormat
    mime_type: str
    size_bytes: int
    duration_seconds: float
    sample_rate: int
    channels: int


def _human(size: int) -> str:
    return f"{size / _MB:.1f} MB ({size} bytes)"


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
    if isinstance(source, io.TextIOBase):
        raise ValidationError("The file object is in text mode; open it in binary mode ('rb').")
    stream: IO[bytes] = source  # type: ignore[assignment]
    position: int | None = None
    try:
        if stream.seekable():
            position = stream.tell()
    except (OSError, ValueError, AttributeError):
        position = None
    try:
        return _read_stream(stream, limit)
    except UnicodeDecodeError as exc:  # a text-mode object that is not an io.TextIOBase
        raise ValidationError(
            "The file object is in text mode; open it in binary mode ('rb')."
        ) from exc
    finally:
        if position is not None:
            stream.seek(position)


def _read_stream(stream: IO[bytes], limit: int) -> bytes:
    """Read up to ``limit`` bytes, holding them once."""
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


def _or_list(formats: Collection[str]) -> str:
    names = [f.upper() for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _detect(data: bytes) -> tuple[AudioFormat, int]:
    """Return the format and where its content starts (after ID3v2 tags)."""
    if data[:4] == b"RIFF" and len(data) < 12:
        raise ValidationError("The WAV file is truncated: its RIFF header is incomplete.")
    start = 0 if data[:4] == b"RIFF" else skip_id3v2(data)
    kind = detect(data, start)
    if kind is not None:
        return kind, start
    if start and len(data) - start < 4:
        raise ValidationError("The MP3 file is truncated right after its ID3 tag.")
    gap = misplaced_mp3_start(data, start)
    if gap and start:
        raise ValidationError(
            f"The MP3 audio does not start where its ID3 tag ends: {gap} bytes of other data lie "
            "in between, so the tag is corrupt."
        )
    if gap and describe_content(data).startswith("not a recognised"):
        raise ValidationError(
            f"The file does not start with an audio frame: MP3 audio begins only after {gap} "
            "bytes of other data, so the file is corrupt."
        )
    where = " after its ID3 tag" if start else ""
    raise ValidationError(
        f"Unsupported audio format: the content is {describe_content(data[start:])}{where}."
    )


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


def _prove(kind: AudioFormat, data: bytes, start: int, max_size_mb: float) -> AudioFileInfo:
    scale = max(max_size_mb, 1.0)
    if kind == "wav":
        facts = check_wav(data)
    else:
        end, _ = trailing_tags_start(data, start)
        if kind == "flac":
            facts = check_flac(data, start, end, int(FLAC_FRAMES_PER_MB * scale))
        else:
            facts = check_mp3(data, start, end, int(MP3_FRAMES_PER_MB * scale), describe_content)
    return AudioFileInfo(
        format=kind,
        mime_type=AUDIO_MIME_TYPES[kind],
        size_bytes=len(data),
        duration_seconds=facts.duration_seconds,
        sample_rate=facts.sample_rate,
        channels=facts.channels,
    )


def validate_audio_file(
    file: bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | Any,
    max_size_mb: float = 10,
    *,
    allowed_formats: Collection[str] = AUDIO_FORMATS,
    declared_mime_type: str | None = None,
) -> AudioFileInfo:
    """Prove that ``file`` is a complete, playable MP3, WAV or FLAC file within the size limit.

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
            truncated, corrupt, has no audio, needs more checking than the caps allow, or
            contradicts ``declared_mime_type``; also for a text-mode file object.
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
    try:
        kind, start = _detect(data)
    except ValidationError as exc:
        if exc.message.startswith("Unsupported"):
            raise ValidationError(f"{exc.message} Upload {allowed_text} audio.") from exc
        raise ValidationError(
            f"{exc.message} Upload a complete, playable {allowed_text} file."
        ) from exc
    if kind not in wanted:
        raise ValidationError(f"{kind.upper()} files are not accepted here; upload {allowed_text}.")
    _check_declared_type(kind, declared_mime_type)
    with _saying_what_is_accepted(allowed_text):
        return _prove(kind, data, start, max_size_mb)
