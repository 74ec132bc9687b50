"""The two checksums FLAC frames carry, fast enough for 10 MB in pure Python.

CRC-8 (polynomial x^8 + x^2 + x + 1) covers each frame header: a short table loop.

CRC-16 (polynomial x^16 + x^15 + x^2 + 1, initial value 0, no reflection) covers each whole frame.
A byte-at-a-time loop costs about a second for 10 MB, so the check uses the code's linearity
instead: a frame with its CRC footer appended is a multiple of the polynomial P, i.e. its
remainder is 0. Bit ``i`` (counted from the end) of the message contributes ``x^(i+16) mod P``
to the remainder, which repeats every 32,767 bits (the order of x modulo P), so a period of
32,767 *bytes* is whole in bits and bytes. Each of the 16 remainder bits is the parity of the
message AND a precomputed mask (``int.bit_count``, done in C); messages longer than the period
are first folded (XOR of period-aligned slices), which keeps the remainder.
"""

from __future__ import annotations

from functools import cache
from typing import Final

_POLY16: Final = 0x18005
_PERIOD_BYTES: Final = (
    32767  # the order of x modulo the CRC-16 polynomial, in bytes (= bits * 8 / 8)
)


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8: Final = _crc8_table()


def crc8(data: bytes) -> int:
    """Return the FLAC frame-header CRC-8 of ``data``."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


@cache
def _masks() -> tuple[int, ...]:
    """The 16 parity masks over one period (8 * 32,767 bits), built once on first use (~5 ms)."""
    period_bits = _PERIOD_BYTES  # the residues repeat every 32,767 bits
    low = bytearray(period_bits)
    high = bytearray(period_bits)
    value = 1 << 16 ^ _POLY16  # x^16 mod P
    for index in range(period_bits):
        low[index] = value & 0xFF
        high[index] = value >> 8
        value <<= 1
        if value & 0x10000:
            value ^= _POLY16
    repeat = sum(1 << (k * period_bits) for k in range(8))
    masks = []
    for bit in range(16):
        source = low if bit < 8 else high
        table = bytes(0x31 if (b >> (bit % 8)) & 1 else 0x30 for b in range(256))
        text = bytes(source).translate(table)[::-1]
        masks.append(int(text, 2) * repeat)
    return tuple(masks)


def remainder_is_zero(data: bytes | memoryview) -> bool:
    """Return whether ``data`` (a frame followed by its CRC-16) has a zero CRC-16 remainder."""
    size = len(data)
    if size <= _PERIOD_BYTES:
        folded = int.from_bytes(data, "big")
    else:
        folded = 0
        end = size
        while end > 0:
            start = max(0, end - _PERIOD_BYTES)
            folded ^= int.from_bytes(data[start:end], "big")
            end = start
    if not folded:
        return True
    return not any((folded & mask).bit_count() & 1 for mask in _masks())


def crc16(data: bytes) -> int:
    """Reference byte-at-a-time CRC-16 (for tests and short inputs)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY16) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc
