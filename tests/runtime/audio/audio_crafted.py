"""Hand-built files for the issue's findings, made from real encoder output."""

from __future__ import annotations

import struct

from runtime.validation._crc import crc8, crc16
from runtime.validation._flac import parse_frame_header


def mp3_frames(mp3: bytes, count: int) -> bytes:
    """The first ``count`` frames of a CBR MP3 without tags (walking the headers)."""
    from runtime.validation._mp3 import _LENGTHS

    position = 0
    for _ in range(count):
        position += _LENGTHS[((mp3[position + 1] & 0x1F) << 8) | mp3[position + 2]]
    return mp3[:position]


def with_xing_frames(mp3: bytes, frames: int) -> bytes:
    """Set the frame count of the Xing/Info header in the first frame."""
    at = mp3.find(b"Xing")
    if at < 0:
        at = mp3.find(b"Info")
    patched = bytearray(mp3)
    struct.pack_into(">I", patched, at + 8, frames)
    return bytes(patched)


def zip_archive() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not audio " * 200)
    return buffer.getvalue()


def id3v2_of_tiny_frames(total: int) -> bytes:
    """An ID3v2.3 tag of ``total`` bytes made of 11-byte text frames."""
    frame = b"TXXX" + struct.pack(">I", 1) + b"\x00\x00" + b"\x00"
    body = frame * ((total - 10) // len(frame))
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + body


def wav_with_fmt(wav: bytes, **fields: int) -> bytes:
    """Patch the canonical 44-byte header's 'fmt ' fields (tag, channels, rate)."""
    offsets = {"tag": (20, "<H"), "channels": (22, "<H"), "rate": (24, "<I")}
    patched = bytearray(wav)
    for name, value in fields.items():
        offset, fmt = offsets[name]
        struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


def wav_of_empty_chunks(wav: bytes, count: int) -> bytes:
    chunks = b"JUNK\x00\x00\x00\x00" * count
    data = wav[:12] + chunks + wav[12:]
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def flac_of_blocks(flac: bytes, kind: int, count: int, body: bytes = b"") -> bytes:
    """Insert ``count`` metadata blocks of ``kind`` after STREAMINFO (which stops being last)."""
    streaminfo = bytes([flac[4] & 0x7F]) + flac[5:42]
    block = bytes([kind]) + len(body).to_bytes(3, "big") + body
    return flac[:4] + streaminfo + block * count + flac[42:]


def flac_streaminfo_bits(flac: bytes, bits: int) -> bytes:
    patched = bytearray(flac)
    field = bits - 1
    patched[8 + 12] = (patched[8 + 12] & 0xFE) | (field >> 4)
    patched[8 + 13] = (patched[8 + 13] & 0x0F) | ((field & 0x0F) << 4)
    return bytes(patched)


def _utf8(number: int) -> bytes:
    if number < 0x80:
        return bytes([number])
    if number < 0x800:
        return bytes([0xC0 | number >> 6, 0x80 | number & 0x3F])
    return bytes([0xE0 | number >> 12, 0x80 | (number >> 6) & 0x3F, 0x80 | number & 0x3F])


def flac_ending_in_zero_crc_byte(flac: bytes) -> bytes:
    """Replace the last frame of a 16-bit stereo FLAC by a silent constant-subframe frame whose
    CRC-16 ends in 0x00 (so cutting that byte leaves a frame whose CRC still matches)."""
    # Find the last frame header.
    position = flac.rfind(b"\xff\xf8")
    while parse_frame_header(flac, position) is None:
        position = flac.rfind(b"\xff\xf8", 0, position)
    last = parse_frame_header(flac, position)
    assert last is not None
    number = last.number
    for block in range(16, 4096):
        head = bytes([0xFF, 0xF8, 0x70, 0x18]) + _utf8(number) + (block - 1).to_bytes(2, "big")
        head += bytes([crc8(head)])
        frame = head + b"\x00\x00\x00" * 2  # two CONSTANT subframes of value 0 (16-bit)
        crc = crc16(frame)
        if crc & 0xFF == 0:
            data = bytearray(flac[:position] + frame + crc.to_bytes(2, "big"))
            total = number * 4096 + block
            data[8 + 13] = (data[8 + 13] & 0xF0) | (total >> 32)
            data[8 + 14 : 8 + 18] = (total & 0xFFFFFFFF).to_bytes(4, "big")
            data[8 + 18 : 8 + 34] = bytes(16)  # MD5 unknown
            return bytes(data)
    raise AssertionError("no block size gave a CRC ending in 0x00")
