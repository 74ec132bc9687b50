"""Recognise the accepted formats from their first bytes, and name the common ones refused."""

from __future__ import annotations

from typing import Final, Literal

from runtime.validation._common import MP3_RESYNC_WINDOW
from runtime.validation._mp3 import _LENGTHS, describe_mpeg_header, is_mp3_header

AudioFormat = Literal["mp3", "wav", "flac"]

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
