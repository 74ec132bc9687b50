"""Recognise content from its first bytes: the accepted audio formats, and stored files' types.

Two users, one set of header checks (the MPEG frame header is :func:`is_mp3_header` of
``_mp3``): audio validation asks which accepted format a file is (:func:`detect`) and names the
refused ones (:func:`describe_content`); storage never trusts a file name alone and asks
:func:`sniff_content_type` (MP3, WAV, FLAC (also behind a short ID3 tag), OGG, AAC, M4A; PNG,
JPEG, WebP, GIF; MP4, QuickTime, WebM, Matroska, AVI), while :func:`normalize_content_type` folds
the common aliases (``audio/mp3``, ``audio/x-wav``, ``image/jpg`` ...) into one canonical
spelling so that allow-lists compare like with like.
"""

from __future__ import annotations

from typing import Final, Literal

from runtime.validation._common import MP3_RESYNC_WINDOW
from runtime.validation._mp3 import _LENGTHS, describe_mpeg_header, is_mp3_header

__all__ = [
    "SNIFF_BYTES",
    "describe_content",
    "detect",
    "misplaced_mp3_start",
    "normalize_content_type",
    "sniff_content_type",
]

AudioFormat = Literal["mp3", "wav", "flac"]

#: How many leading bytes :func:`sniff_content_type` looks at (Matroska's DocType can sit a few
#: dozen bytes in; 512 leaves room).
SNIFF_BYTES = 512


_SIGNATURES: Final[tuple[tuple[int, bytes, str], ...]] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or Office document)"),
    (0, b"\x7fELF", "an ELF executable"),
    (0, b"MZ", "a Windows executable"),
    (0, b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (0, b"#!", "a script"),
    (0, b"\x1aE\xdf\xa3", "a Matroska/WebM file"),
    (0, b"0&\xb2u\x8ef\xcf\x11", "a WMA/ASF (Windows Media) file"),
    (0, b"MAC ", "an APE (Monkey's Audio) file"),
    (0, b"RF64", "an RF64 (64-bit WAV) file"),
    (0, b"BW64", "a BW64 (broadcast 64-bit WAV) file"),
    (0, b"RIFX", "a big-endian RIFX WAV file"),
    (0, b"wvpk", "a WavPack file"),
    (0, b"MPCK", "a Musepack file"),
    (0, b"MP+", "a Musepack file"),
    (0, b"TTA1", "a TTA (True Audio) file"),
    (0, b".snd", "a Sun/NeXT AU file"),
    (0, b"caff", "a CAF (Core Audio) file"),
    (0, b"#!AMR", "an AMR file"),
    (0, b"DSD ", "a DSF (DSD audio) file"),
    (0, b"FRM8", "a DSDIFF (DSD audio) file"),
    (0, b"MThd", "a MIDI file"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"Rar!", "a RAR archive"),
    (0, b"7z\xbc\xaf", "a 7-Zip archive"),
)
_TEXT_STARTS: Final = (b"<!doctype html", b"<html", b"<?xml", b"{", b"[")


def _describe_riff(data: bytes) -> str | None:
    if data[:4] == b"RIFF":
        form = data[8:12]
        if form == b"WEBP":
            return "a WebP image"
        if form == b"AVI ":
            return "an AVI video"
        return "a RIFF file that is not WAVE audio"
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "an AIFF file"
    return None


def _describe_ogg(data: bytes) -> str:
    head = data[:256]
    if b"\x7fFLAC" in head:
        return "an Ogg FLAC file (FLAC is accepted only as a plain .flac file, not inside Ogg)"
    if b"OpusHead" in head:
        return "an Ogg Opus file"
    if b"\x01vorbis" in head:
        return "an Ogg Vorbis file"
    if b"Speex" in head:
        return "an Ogg Speex file"
    return "an Ogg file"


def _describe_mp4(data: bytes) -> str:
    if b"alac" in data:
        return "an M4A file holding ALAC (Apple Lossless) audio"
    if b"mp4a" in data:
        return "an M4A/MP4 file holding AAC audio"
    return "an MP4/M4A file"


def describe_content(data: bytes) -> str:
    """Say in plain words what ``data`` is, when it is not an accepted audio format."""
    for offset, magic, description in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return description
    riff = _describe_riff(data)
    if riff is not None:
        return riff
    if data[:4] == b"OggS":
        return _describe_ogg(data)
    if data[4:8] == b"ftyp":
        return _describe_mp4(data)
    if data[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "AAC (ADTS) audio"
    mpeg = describe_mpeg_header(data[:4])
    if mpeg is not None:
        return mpeg + " audio"
    if data[:11] == b"LYRICSBEGIN":
        return "a Lyrics3 tag, which FFmpeg fails on"
    lowered = data[:64].lstrip().lower()
    if lowered.startswith(_TEXT_STARTS[:2]):
        return "an HTML page"
    if lowered.startswith(_TEXT_STARTS[2:]):
        return "a text document"
    if data[:4096] and all(b in b"\t\n\r" or 0x20 <= b < 0x7F for b in data[:4096]):
        return "plain text"
    return "not a recognised audio format"


def detect(data: bytes, start: int) -> AudioFormat | None:
    """Return the accepted format the content after ``start`` (an ID3v2 tag's end) starts with."""
    if start == 0 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[start : start + 4] == b"fLaC":
        return "flac"
    if is_mp3_header(data[start : start + 4]):
        return "mp3"
    return None


def misplaced_mp3_start(data: bytes, start: int) -> int | None:
    """Return how far past ``start`` two chained MP3 frames begin (within a window), or None.

    Used only to explain a refusal: the audio does not start where the ID3 tag says it ends.
    """
    limit = min(len(data), start + MP3_RESYNC_WINDOW)
    at = data.find(b"\xff", start, limit)
    for _ in range(4096):
        if at < 0:
            return None
        head = data[at : at + 4]
        if is_mp3_header(head):
            following = at + _LENGTHS[((head[1] & 0x1F) << 8) | head[2]]
            if is_mp3_header(data[following : following + 4]) or following == len(data):
                return at - start
        at = data.find(b"\xff", at + 1, limit)
    return None


# -- content types of stored files ------------------------------------------------------------

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

_MPEG_LAYER_AAC = 0b00  # the layer bits of an ADTS (raw AAC) header


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
    if head.startswith(b"ID3") or is_mp3_header(head):
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
