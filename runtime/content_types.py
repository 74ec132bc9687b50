"""Content types for stored files: detection from the bytes themselves, and canonical spellings.

Storage never trusts a file name alone. :func:`sniff_content_type` recognises the formats the
pipeline stores (MP3, WAV, FLAC (also behind a short ID3 tag), OGG, AAC, M4A; PNG, JPEG, WebP,
GIF; MP4, QuickTime, WebM, Matroska, AVI) from their leading bytes, and
:func:`normalize_content_type` folds the common aliases (``audio/mp3``, ``audio/x-wav``,
``image/jpg`` ...) into one canonical spelling so that allow-lists compare like with like.
"""

from __future__ import annotations

__all__ = [
    "OCTET_STREAM",
    "SNIFF_BYTES",
    "normalize_content_type",
    "sniff_content_type",
]

#: The type of bytes nothing more is known about.
OCTET_STREAM = "application/octet-stream"

#: How many leading bytes :func:`sniff_content_type` looks at (Matroska's DocType can sit a few
#: dozen bytes in; 512 leaves room).
SNIFF_BYTES = 512

_ALIASES: dict[str, str] = {
    "audio/mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/x-mpeg-3": "audio/mpeg",
    "audio/wave": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-pn-wav": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "video/x-m4v": "video/mp4",
    "video/x-quicktime": "video/quicktime",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
}

# ISO base media brands (bytes 8..12 of an ``ftyp`` box) that are not plain MP4 video.
_FTYP_BRANDS: dict[bytes, str] = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"M4P ": "audio/mp4",
    b"F4A ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
}

# MPEG audio frame header tables (bitrate index 0b1111 and sample-rate index 0b11 are invalid).
_MPEG_VERSION_RESERVED = 0b01
_MPEG_LAYER_3 = 0b01
_MPEG_LAYER_AAC = 0b00


def normalize_content_type(content_type: str) -> str:
    """Return the canonical, lower-case spelling of a content type without parameters.

    ``"Audio/MP3; charset=binary"`` becomes ``"audio/mpeg"``; an unknown type is only lower-cased
    and stripped of its parameters.

    Args:
        content_type: A MIME type as given by a caller or a server.

    Returns:
        The canonical type, for example ``"audio/wav"`` for ``"audio/x-wav"``.
    """
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """Return whether ``head`` starts with a plausible MPEG-1/2 Layer III frame header."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate_index = head[2] >> 4
    sample_rate_index = (head[2] >> 2) & 0b11
    return (
        version != _MPEG_VERSION_RESERVED
        and layer == _MPEG_LAYER_3
        and bitrate_index not in (0b0000, 0b1111)
        and sample_rate_index != 0b11
    )


def _is_adts_aac(head: bytes) -> bool:
    """Return whether ``head`` starts with an ADTS (raw AAC) frame header."""
    return (
        len(head) >= 4
        and head[0] == 0xFF
        and (head[1] & 0xF0) == 0xF0
        and ((head[1] >> 1) & 0b11) == _MPEG_LAYER_AAC
    )


def _after_id3(head: bytes) -> bytes:
    """The 4 bytes after a leading ID3v2 tag when the tag ends inside ``head`` (else b"")."""
    if len(head) < 10 or any(b & 0x80 for b in head[6:10]):
        return b""
    size = 0
    for byte in head[6:10]:
        size = size << 7 | byte
    end = 10 + size + (10 if head[5] & 0x10 else 0)
    return head[end : end + 4]


def _sniff_riff(head: bytes) -> str | None:
    form = head[8:12]
    if form == b"WAVE":
        return "audio/wav"
    if form == b"WEBP":
        return "image/webp"
    if form == b"AVI ":
        return "video/x-msvideo"
    return None


def _sniff_ftyp(head: bytes) -> str:
    brand = head[8:12]
    return _FTYP_BRANDS.get(brand, "video/mp4")


def _sniff_ebml(head: bytes) -> str:
    # The EBML header names its DocType ("webm" or "matroska") within its first few dozen bytes.
    return "video/webm" if b"webm" in head[:SNIFF_BYTES] else "video/x-matroska"


def sniff_content_type(head: bytes) -> str | None:
    """Detect a file's content type from its leading bytes.

    Args:
        head: The first bytes of the file; :data:`SNIFF_BYTES` bytes are enough for every format
            recognised, fewer bytes may still be recognised.

    Returns:
        The canonical content type, or ``None`` when the bytes match no known format.
    """
    if head.startswith(b"ID3") and _after_id3(head) == b"fLaC":
        return "audio/flac"
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _sniff_riff(head)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _sniff_ebml(head)
    if _is_adts_aac(head):
        return "audio/aac"
    return None
