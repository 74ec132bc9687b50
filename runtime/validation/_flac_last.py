"""Measure the last FLAC frame by walking its subframes, so a cut inside it cannot go unseen.

A CRC with initial value 0 and no final XOR stays valid when zero bytes are appended or removed
at the end, so the CRC-16 alone cannot tell a complete last frame from one cut by a trailing
0x00 byte. Here the last frame's subframes (headers, warm-up samples, coefficients and Rice
residual codes) are skipped bit by bit to find exactly where the frame ends. Only one frame is
walked (and any frame whose last byte is 0x00, see _flac.py), with a cap on residuals.
"""

from __future__ import annotations

from typing import Final

from runtime.validation._common import refuse

MAX_RESIDUALS: Final = 1 << 17  # 65,535 samples x 2 channels; 4,608 x 8 channels is 36,864


class _Overrun(Exception):
    """The subframes need more bits than the frame has."""


def _unary(bits: str, at: int) -> int:
    one = bits.find("1", at)
    if one < 0:
        raise _Overrun
    return one + 1


def _residual(bits: str, at: int, block: int, order: int) -> int:
    method = int(bits[at : at + 2], 2)
    if method > 1:
        raise _Overrun
    param_bits = 4 if method == 0 else 5
    escape = (1 << param_bits) - 1
    partition_order = int(bits[at + 2 : at + 6], 2)
    at += 6
    partitions = 1 << partition_order
    per = block >> partition_order
    if per * partitions != block or per < order:
        raise _Overrun
    find = bits.find
    for index in range(partitions):
        count = per - order if index == 0 else per
        param = int(bits[at : at + param_bits] or "x", 2)
        at += param_bits
        if param == escape:
            raw = int(bits[at : at + 5] or "x", 2)
            at += 5 + raw * count
            continue
        for _ in range(count):
            one = find("1", at)
            if one < 0:
                raise _Overrun
            at = one + 1 + param
    return at


def _subframe(bits: str, at: int, block: int, size: int) -> int:
    if bits[at : at + 1] != "0":
        raise _Overrun
    kind = int(bits[at + 1 : at + 7] or "x", 2)
    at += 7
    if bits[at : at + 1] == "1":
        wasted_end = _unary(bits, at + 1)
        size -= wasted_end - at - 1
        at = wasted_end
    else:
        at += 1
    if kind == 0:
        return at + size
    if kind == 1:
        return at + size * block
    if 8 <= kind <= 12:
        order = kind - 8
        return _residual(bits, at + order * size, block, order)
    if kind >= 32:
        order = kind - 31
        at += order * size
        precision = int(bits[at : at + 4] or "x", 2)
        if precision == 15:
            raise _Overrun
        at += 4 + 5 + order * (precision + 1)
        return _residual(bits, at, block, order)
    raise _Overrun


def measure_frame(
    frame: bytes | memoryview, header_length: int, block: int, channel_code: int, sample_bits: int
) -> int | None:
    """Return the frame's true length in bytes (subframes, padding, CRC), or ``None``.

    ``None`` means its subframes need more bytes than ``frame`` has (a cut frame).

    Args:
        frame: The frame's bytes, possibly followed by more.
        header_length: Its header's length in bytes.
        block: Samples per channel in the frame.
        channel_code: The frame header's channel assignment (0-10).
        sample_bits: Bits per sample.
    """
    channels = channel_code + 1 if channel_code < 8 else 2
    bits = bin(int.from_bytes(b"\x01" + bytes(frame), "big"))[3:]
    at = header_length * 8
    try:
        for channel in range(channels):
            side = (
                (channel_code == 8 and channel == 1)
                or (channel_code == 9 and channel == 0)
                or (channel_code == 10 and channel == 1)
            )
            at = _subframe(bits, at, block, sample_bits + (1 if side else 0))
            if at > len(bits):
                return None
    except (_Overrun, ValueError):
        return None
    end = (at + 7) // 8 + 2
    return end if end <= len(frame) else None


def check_last_frame_length(
    frame: bytes | memoryview, header_length: int, block: int, channel_code: int, sample_bits: int
) -> None:
    """Refuse a last frame whose subframes and CRC do not end exactly where the file ends."""
    channels = channel_code + 1 if channel_code < 8 else 2
    if block * channels > MAX_RESIDUALS:
        raise refuse(
            "The last FLAC frame is too large to check in bounded time; re-encode the file "
            "with the default block size."
        )
    end = measure_frame(frame, header_length, block, channel_code, sample_bits)
    if end is None:
        raise refuse("The FLAC file is truncated: its last audio frame is cut short.")
    if end != len(frame):
        raise refuse(
            f"The FLAC file has {len(frame) - end} bytes after its last audio frame that are "
            "not audio or a tag decoders skip; it is corrupt."
        )
