"""WAV (RIFF/WAVE): a bounded walk of the chunks and a check of the format against an allow-list.

The allowed encodings are the ones both FFmpeg and libsndfile decode: integer PCM (8/16/24/32
bit), IEEE float (32/64 bit), A-law, mu-law, IMA ADPCM, Microsoft ADPCM and GSM 6.10, plain or in
WAVE_FORMAT_EXTENSIBLE. The duration is what a decoder produces from the data chunk: whole sample
frames for PCM-like codings, whole and partial blocks for ADPCM and GSM. Length fields left at a
streaming placeholder (``0xFFFFFFFF`` by FFmpeg, ``0x7FFFF000`` by SoX, or 0) mean "to the end of
the file", as decoders read them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from runtime.validation._common import WAV_MAX_CHUNKS, StreamFacts, chunk_name, refuse

_PCM, _ADPCM_MS, _FLOAT, _ALAW, _MULAW, _ADPCM_IMA, _GSM, _EXTENSIBLE = (
    0x0001,
    0x0002,
    0x0003,
    0x0006,
    0x0007,
    0x0011,
    0x0031,
    0xFFFE,
)
_NAMES: Final = {
    _PCM: "PCM",
    _ADPCM_MS: "Microsoft ADPCM",
    _FLOAT: "IEEE float",
    _ALAW: "A-law",
    _MULAW: "mu-law",
    _ADPCM_IMA: "IMA ADPCM",
    _GSM: "GSM 6.10",
    0x0050: "MPEG audio",
    0x0055: "MP3",
    0x0160: "WMA",
    0x0161: "WMA",
    0x0162: "WMA Pro",
    0x00FF: "AAC",
    0x1610: "AAC",
    0x0092: "Dolby AC-3",
    0x2000: "Dolby AC-3",
    0xF1AC: "FLAC",
}
_ALLOWED_TEXT: Final = (
    "PCM (8, 16, 24 or 32-bit), IEEE float (32 or 64-bit), A-law, mu-law, IMA ADPCM, "
    "Microsoft ADPCM or GSM 6.10"
)
_SUBFORMAT_TAIL: Final = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_PLACEHOLDERS: Final = frozenset({0xFFFFFFFF, 0x7FFFF000, 0x7FFFF024, 0})
MAX_CHANNELS: Final = 8
RATE_RANGE: Final = (1_000, 768_000)


@dataclass(frozen=True, slots=True)
class _Format:
    tag: int
    channels: int
    rate: int
    block_align: int
    frames_per_block: int  # 1 for PCM-like codings
    partial: int  # bytes of header per channel in an ADPCM block (0: no partial blocks)


def _name(tag: int) -> str:
    return _NAMES.get(tag, f"an unknown coding (format tag 0x{tag:04X})")


def _parse_fmt(body: bytes) -> _Format:
    if len(body) < 16:
        raise refuse("The WAV 'fmt ' chunk is too short to describe the audio.")
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", body)
    extra = body[18 : 18 + int.from_bytes(body[16:18], "little")] if len(body) >= 18 else b""
    if tag == _EXTENSIBLE:
        if len(extra) < 22 or extra[8:22] != _SUBFORMAT_TAIL:
            raise refuse("The WAV extensible format header is incomplete or unknown.")
        tag = int.from_bytes(extra[6:8], "little")
        valid_bits = int.from_bytes(extra[0:2], "little")
        if valid_bits > bits:
            raise refuse(
                f"The WAV extensible format is inconsistent ({valid_bits} valid bits in "
                f"{bits}-bit samples); decoders disagree on such a file."
            )
        if tag not in (_PCM, _FLOAT, _ALAW, _MULAW):
            raise refuse(
                f"The WAV audio is {_name(tag)}, which is not accepted; WAV must hold "
                f"{_ALLOWED_TEXT}."
            )
    if tag not in (_PCM, _ADPCM_MS, _FLOAT, _ALAW, _MULAW, _ADPCM_IMA, _GSM):
        raise refuse(
            f"The WAV audio is {_name(tag)}, which is not accepted; WAV must hold {_ALLOWED_TEXT}."
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise refuse(
            f"The WAV file says it has {channels} channels; 1 to {MAX_CHANNELS} are accepted."
        )
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise refuse(
            f"The WAV file gives an invalid sample rate ({rate} Hz); {RATE_RANGE[0]:,} Hz "
            f"to {RATE_RANGE[1]:,} Hz is accepted."
        )
    return _block_format(tag, channels, rate, align, bits, extra)


def _block_format(
    tag: int, channels: int, rate: int, align: int, bits: int, extra: bytes
) -> _Format:
    name = _NAMES[tag]
    sizes = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64), _ALAW: (8,), _MULAW: (8,)}.get(tag)
    if sizes is not None:
        if bits not in sizes:
            raise refuse(
                f"The WAV {name} format is inconsistent ({bits}-bit samples, {channels} "
                f"channel(s)); {name} must be {'/'.join(map(str, sizes))}-bit."
            )
        # FFmpeg and libsndfile size PCM frames from channels x bytes per sample and ignore a
        # wrong block alignment (0, 3, 16... all play), so the duration is counted the same way.
        return _Format(tag, channels, rate, channels * bits // 8, 1, 0)
    per_block = int.from_bytes(extra[0:2], "little") if len(extra) >= 2 else 0
    if tag == _GSM:
        if channels != 1 or align != 65 or per_block not in (0, 320):
            raise refuse(
                f"The WAV GSM 6.10 format is inconsistent ({channels} channel(s), {align}-byte "
                f"blocks, {per_block} samples per block); GSM 6.10 must be mono with 65-byte "
                "blocks of 320 samples."
            )
        return _Format(tag, 1, rate, 65, 320, 0)
    header = 4 if tag == _ADPCM_IMA else 7
    body = align - header * channels
    expected = body * 8 // (4 * channels) + 1 if tag == _ADPCM_IMA else body * 2 // channels + 2
    coefficients_ok = True
    if tag == _ADPCM_MS:
        count = int.from_bytes(extra[2:4], "little") if len(extra) >= 4 else 0
        coefficients_ok = 7 <= count <= 256 and len(extra) >= 4 + 4 * count
    if bits != 4 or body <= 0 or per_block != expected or not coefficients_ok:
        raise refuse(
            f"The WAV {name} format is inconsistent ({bits}-bit, {align}-byte blocks, "
            f"{per_block} samples per block); the file is corrupt."
        )
    return _Format(tag, channels, rate, align, per_block, header)


def _frames(fmt: _Format, size: int) -> int:
    """Sample frames a decoder produces from ``size`` bytes of data."""
    blocks, rest = divmod(size, fmt.block_align)
    frames = blocks * fmt.frames_per_block
    if fmt.partial and rest > fmt.partial * fmt.channels:
        body = rest - fmt.partial * fmt.channels
        if fmt.tag == _ADPCM_IMA:
            frames += 1 + body // (4 * fmt.channels) * 8
        else:
            frames += body * 2 // fmt.channels + 2
    return frames


def _check_block_headers(fmt: _Format, data: bytes, start: int, end: int) -> None:
    """Check every ADPCM block header as FFmpeg does, with strided slices (no Python loop).

    IMA ADPCM: per channel a step index of at most 88 (FFmpeg ignores the byte after it).
    Microsoft ADPCM: per channel a predictor index of at most 6 (the seven standard pairs).
    """
    if fmt.tag == _ADPCM_IMA:
        for channel in range(fmt.channels):
            offset = start + 4 * channel
            if max(data[offset + 2 : end : fmt.block_align], default=0) > 88:
                raise refuse(_BAD_BLOCK.format(name="IMA ADPCM"))
    elif fmt.tag == _ADPCM_MS:
        for channel in range(fmt.channels):
            if max(data[start + channel : end : fmt.block_align], default=0) > 6:
                raise refuse(_BAD_BLOCK.format(name="Microsoft ADPCM"))


_BAD_BLOCK: Final = (
    "The WAV {name} audio has a block with an invalid header; the file is corrupt (or bytes "
    "were inserted or lost in the middle)."
)


def check_wav(data: bytes) -> StreamFacts:
    """Prove a RIFF/WAVE file: chunk structure, format, and the samples present.

    Raises:
        ValidationError: The structure is broken or truncated, the coding is not accepted or
            inconsistent, there are no samples, or there are more chunks than the cap.
    """
    declared = int.from_bytes(data[4:8], "little")
    end = 8 + declared
    if end > len(data):
        if declared not in _PLACEHOLDERS:
            raise refuse(
                f"The WAV header says the file is {end} bytes but it has {len(data)}; the file "
                "is truncated or its header is wrong."
            )
        end = len(data)
    elif declared == 0:
        end = len(data)
    position = 12
    fmt: _Format | None = None
    frames: int | None = None
    for _ in range(WAV_MAX_CHUNKS):
        if position + 8 > end:
            break
        chunk_id = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        body_end = position + 8 + size
        if not all(0x20 <= b < 0x7F for b in chunk_id):
            raise refuse(
                f"The WAV file has {chunk_name(chunk_id)} at byte {position}; the chunk "
                "structure is corrupt."
            )
        if chunk_id == b"data":
            if fmt is None:
                raise refuse("The WAV file has audio data before its 'fmt ' chunk.")
            if frames is not None:
                raise refuse("The WAV file has two 'data' chunks; it is corrupt.")
            if body_end > end:
                if size not in _PLACEHOLDERS:
                    raise refuse(
                        f"The WAV 'data' chunk claims {size} bytes but only {end - position - 8} "
                        "follow; the file is truncated or its header is wrong."
                    )
                body_end = end
            frames = _frames(fmt, body_end - position - 8)
            _check_block_headers(fmt, data, position + 8, body_end)
        elif body_end > end:
            raise refuse(
                f"The WAV {chunk_name(chunk_id)} chunk claims {size} bytes, past the end of the "
                "file; the file is truncated or its header is wrong."
            )
        elif chunk_id == b"fmt ":
            if fmt is not None:
                raise refuse("The WAV file has two 'fmt ' chunks; it is corrupt.")
            fmt = _parse_fmt(data[position + 8 : body_end])
        position = body_end + (size & 1)
    else:
        if position + 8 <= end:
            raise refuse(
                f"The WAV file has more than {WAV_MAX_CHUNKS} chunks; real files have a "
                "handful. It is corrupt or crafted."
            )
    if fmt is None:
        raise refuse("The WAV file has no 'fmt ' chunk describing its audio.")
    if not frames:
        raise refuse("The WAV file has no audio samples ('data' chunk missing or empty).")
    return StreamFacts(frames / fmt.rate, fmt.rate, fmt.channels)
