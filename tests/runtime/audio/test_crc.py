"""The FLAC checksums: the fast CRC-16 checks agree with the byte-at-a-time reference."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.validation._crc import FrameChecks, crc8, crc16, remainder_is_zero

PERIOD = 32767


def framed(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "big")


def test_reference_crcs_give_the_published_check_values() -> None:
    assert crc8(b"123456789") == 0xF4  # CRC-8 (poly 0x07)
    assert crc16(b"123456789") == 0xFEE8  # CRC-16/BUYPASS (poly 0x8005), as FLAC uses


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.integers(min_value=0))
def test_remainder_check_accepts_a_valid_frame_and_refuses_any_single_bit_flip(
    body: bytes, where: int
) -> None:
    frame = framed(body)
    assert remainder_is_zero(frame)
    flipped = bytearray(frame)
    flipped[where % len(frame)] ^= 1 << (where % 8)
    assert not remainder_is_zero(bytes(flipped))


@pytest.mark.parametrize("size", [PERIOD - 1, PERIOD, PERIOD + 1, 3 * PERIOD + 5])
def test_remainder_check_folds_frames_longer_than_the_period(size: int) -> None:
    body = random.Random(size).randbytes(size)
    frame = framed(body)
    assert remainder_is_zero(frame)
    flipped = bytearray(frame)
    flipped[size // 2] ^= 0x10
    assert not remainder_is_zero(bytes(flipped))


def _frames(count: int, size: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [framed(rng.randbytes(size)) for _ in range(count)]


@pytest.mark.parametrize("size", [100, 4000, 40_000])
def test_batched_checks_accept_valid_frames(size: int) -> None:
    checks = FrameChecks()
    assert all(checks.add(frame) for frame in _frames(20, size, size))
    assert checks.all_valid()


@pytest.mark.parametrize("bit", range(8))
def test_batched_checks_refuse_one_corrupt_large_frame(bit: int) -> None:
    frames = _frames(20, 4000, bit)
    corrupt = bytearray(frames[7])
    corrupt[123] ^= 1 << bit
    corrupt[2000] ^= 1 << bit  # two flips: even parity, so only the accumulators can see it
    frames[7] = bytes(corrupt)
    checks = FrameChecks()
    added = [checks.add(frame) for frame in frames]
    assert not (all(added) and checks.all_valid())


def test_batched_checks_refuse_errors_crafted_to_cancel_without_the_secret_shifts() -> None:
    # The same even-parity error in two frames of the same length: they cancel in any
    # unweighted sum of remainders, but not after the secret random shifts.
    frames = _frames(2, 4000, 99)
    error = bytearray(4002)
    error[100] = 0x81
    broken = [bytes(a ^ b for a, b in zip(frame, error, strict=True)) for frame in frames]
    checks = FrameChecks()
    assert all(checks.add(frame) for frame in broken)
    assert not checks.all_valid()
