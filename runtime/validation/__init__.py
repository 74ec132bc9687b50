"""Input validation shared by the API and the workers: audio uploads, prompts, file sizes.

Usage::

    from runtime.validation import validate_audio_file, validate_file_size, validate_prompt

    info = validate_audio_file(upload.file, max_size_mb=10)
    info.format, info.mime_type, info.duration_seconds   # "mp3", "audio/mpeg", 181.3

    prompt = validate_prompt(raw_prompt, min_length=50, max_length=500)  # the cleaned prompt

    validate_file_size(size_bytes, max_size_bytes=10 * 1024 * 1024)

    sniff_content_type(first_512_bytes)         # "audio/flac", "image/png"... or None
    normalize_content_type("audio/x-wav")       # "audio/wav"

Every function raises :class:`runtime.errors.ValidationError` saying what was wrong and what is
allowed. Audio is recognised from its content (magic bytes), never from a file name or a claimed
MIME type, and accepted only when a real decoder would play all of it (see
:mod:`runtime.validation.audio` and docs/audio.md).
"""

from runtime.validation._sniff import SNIFF_BYTES, normalize_content_type, sniff_content_type
from runtime.validation.audio import (
    AUDIO_FORMATS,
    AUDIO_MIME_TYPES,
    AudioFileInfo,
    AudioFormat,
    validate_audio_file,
)
from runtime.validation.prompt import validate_file_size, validate_prompt

__all__ = [
    "AUDIO_FORMATS",
    "AUDIO_MIME_TYPES",
    "AudioFileInfo",
    "AudioFormat",
    "SNIFF_BYTES",
    "validate_audio_file",
    "validate_file_size",
    "normalize_content_type",
    "sniff_content_type",
    "validate_prompt",
]
