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

import os
import random
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


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY16) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC16: Final = _crc16_table()


def crc16(data: bytes | memoryview) -> int:
    """Byte-at-a-time CRC-16 (the reference, and the fastest way for tiny frames)."""
    crc = 0
    table = _CRC16
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


_PERIOD_BITS: Final = 32767
_PERIOD_MASK: Final = (1 << _PERIOD_BITS) - 1


def _reduced(data: bytes | memoryview) -> int:
    """The message as an integer below 2**32767 with the same CRC-16 remainder."""
    size = len(data)
    if size <= _PERIOD_BYTES:
        value = int.from_bytes(data, "big")
    else:
        value = 0
        end = size
        while end > 0:
            start = max(0, end - _PERIOD_BYTES)
            value ^= int.from_bytes(data[start:end], "big")
            end = start
    while value >> _PERIOD_BITS:  # at most 8 rounds: x**32767 is 1 modulo the polynomial
        value = (value & _PERIOD_MASK) ^ (value >> _PERIOD_BITS)
    return value


_TINY_FRAME: Final = 48  # bytes; below this a table loop is the cheapest exact check
_SMALL_FRAME: Final = 512  # bytes; below this the exact 16-mask check is cheaper
_ROTATIONS: Final = 4096  # secret shifts are drawn from [0, 4096) bits
_SUMS: Final = 3


class FrameChecks:
    """Check the CRC-16 of many frames with a handful of big-integer operations per frame.

    Each frame (with its CRC footer) must have remainder 0 modulo P = (x + 1)(x^15 + x + 1).
    Small frames are checked exactly (:func:`remainder_is_zero`). For larger ones the (x + 1)
    part, which is the parity of the frame's bits, is checked exactly, and the (x^15 + x + 1)
    part for all of them at once: each frame is multiplied by x^k for a secret random k below
    4,096 and added to an accumulator, whose remainder is 0 when every frame's is. Corrupt
    frames whose errors cancel out would have to guess the shifts: with three independent
    accumulators the chance is below 1 in 6 x 10^10 per file, even for a crafted one.
    """

    __slots__ = ("_random", "_sums")

    def __init__(self) -> None:
        self._sums = [0] * _SUMS
        # A fast generator with a secret seed from the OS: the shifts cannot be predicted.
        self._random = random.Random(os.urandom(32))

    def add(self, frame: bytes | memoryview) -> bool:
        """Add one frame; return False when it is already proved corrupt."""
        if len(frame) <= _TINY_FRAME:
            return not crc16(frame)
        if len(frame) <= _SMALL_FRAME:
            return remainder_is_zero(frame)
        value = _reduced(frame)
        if value.bit_count() & 1:
            return False
        sums = self._sums
        draw = self._random.getrandbits(12 * _SUMS)
        for index in range(_SUMS):
            sums[index] ^= value << ((draw >> (12 * index)) & (_ROTATIONS - 1))
        return True

    def all_valid(self) -> bool:
        """Return whether every frame added has a zero CRC-16 remainder."""
        return all(remainder_is_zero(_to_bytes(total)) for total in self._sums)


def _to_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
