"""FLAC: a bounded walk of the metadata blocks and of every audio frame's header and checksum.

Without decoding the residuals, a frame is proved by (1) a header whose CRC-8 matches and whose
fields agree with STREAMINFO and with the frame before it (numbering, sample rate, channels,
sample size, block size), and (2) the CRC-16 of all its bytes, checked up to the next proved
header (or the end of the file for the last frame). libFLAC refuses a frame whose CRC-16 fails;
FFmpeg mostly fails on such frames too. Frames are counted, so the duration is the samples
actually present, and a STREAMINFO total of 0 (a streamed encoder's "unknown") is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

from runtime.validation._common import (
    FLAC_MAX_COMMENTS,
    FLAC_MAX_METADATA_BLOCKS,
    StreamFacts,
    refuse,
    seconds,
)
from runtime.validation._crc import FrameChecks, crc8, remainder_is_zero
from runtime.validation._flac_last import check_last_frame_length, measure_frame

_BLOCK_NAMES: Final = {
    0: "STREAMINFO",
    1: "PADDING",
    2: "APPLICATION",
    3: "SEEKTABLE",
    4: "VORBIS_COMMENT",
    5: "CUESHEET",
    6: "PICTURE",
}
_RATE_CODES: Final = {
    1: 88200,
    2: 176400,
    3: 192000,
    4: 8000,
    5: 16000,
    6: 22050,
    7: 24000,
    8: 32000,
    9: 44100,
    10: 48000,
    11: 96000,
}
_SAMPLE_SIZES: Final = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}
_MAX_CANDIDATE_SURPLUS: Final = 2_000  # false frame-sync patterns tolerated on top of the frames
WALK_RESIDUALS_PER_FRAME: Final = 13  # residual budget for walking frames that end in 0x00


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The fields of a FLAC STREAMINFO block the frame walk checks against."""

    min_block: int
    max_block: int
    sample_rate: int
    channels: int
    bits: int
    total_samples: int


class FrameHeader(NamedTuple):
    """One parsed FLAC frame header (a tuple: thousands are made per file)."""

    variable: bool
    number: int  # frame number (fixed block size) or first sample number (variable)
    block_size: int
    sample_rate: int  # 0: the STREAMINFO rate
    channels: int
    channel_code: int  # the channel assignment (0-7 independent, 8-10 stereo decorrelation)
    bits: int  # 0: the STREAMINFO sample size
    length: int  # header bytes including the CRC-8


def _read_number(data: bytes, at: int) -> tuple[int, int] | None:
    """Decode FLAC's UTF-8-like coded number at ``at``; return (value, byte count)."""
    if at >= len(data):
        return None
    first = data[at]
    if first < 0x80:
        return first, 1
    extra = 0
    while extra < 7 and first & (0x80 >> extra):
        extra += 1
    if extra < 2 or extra > 7:
        return None
    value = first & (0x7F >> extra)
    end = at + extra
    if end > len(data):
        return None
    for byte in data[at + 1 : end]:
        if byte & 0xC0 != 0x80:
            return None
        value = (value << 6) | (byte & 0x3F)
    return value, extra


def parse_frame_header(data: bytes, at: int) -> FrameHeader | None:
    """Parse the frame header at ``at``, or return ``None`` when it is not a valid header.

    A header is only believed when its reserved bits are clear and its CRC-8 matches, so
    ``FF F8`` bytes inside compressed audio are not taken for a frame.
    """
    if at + 6 > len(data) or data[at] != 0xFF or data[at + 1] & 0xFE != 0xF8:
        return None
    block_code, rate_code = data[at + 2] >> 4, data[at + 2] & 0x0F
    channel_code, size_code = data[at + 3] >> 4, (data[at + 3] >> 1) & 0x07
    if block_code == 0 or rate_code == 15 or channel_code > 10 or size_code == 3:
        return None
    if data[at + 3] & 0x01:
        return None
    coded = _read_number(data, at + 4)
    if coded is None:
        return None
    number, width = coded
    cursor = at + 4 + width
    if block_code == 1:
        block = 192
    elif block_code <= 5:
        block = 576 << (block_code - 2)
    elif block_code in (6, 7):
        size = 1 if block_code == 6 else 2
        block = int.from_bytes(data[cursor : cursor + size], "big") + 1
        cursor += size
    else:
        block = 256 << (block_code - 8)
    if rate_code == 12:
        rate = data[cursor] * 1000 if cursor < len(data) else 0
        cursor += 1
    elif rate_code in (13, 14):
        rate = int.from_bytes(data[cursor : cursor + 2], "big") * (1 if rate_code == 13 else 10)
        cursor += 2
    else:
        rate = _RATE_CODES.get(rate_code, 0)
    if cursor >= len(data) or crc8(data[at:cursor]) != data[cursor]:
        return None
    return FrameHeader(
        bool(data[at + 1] & 0x01),
        number,
        block,
        rate,
        channel_code + 1 if channel_code < 8 else 2,
        channel_code,
        _SAMPLE_SIZES.get(size_code, 0),
        cursor + 1 - at,
    )


def _read_streaminfo(body: bytes) -> StreamInfo:
    info = StreamInfo(
        min_block=int.from_bytes(body[0:2], "big"),
        max_block=int.from_bytes(body[2:4], "big"),
        sample_rate=int.from_bytes(body[10:13], "big") >> 4,
        channels=((body[12] >> 1) & 0x07) + 1,
        bits=(((body[12] & 0x01) << 4) | (body[13] >> 4)) + 1,
        total_samples=int.from_bytes(body[13:18], "big") & 0xFFFFFFFFF,
    )
    if info.max_block < 16:  # the minimum is informational: decoders ignore it
        raise refuse(
            f"The FLAC header gives an invalid maximum block size ({info.max_block} samples; "
            "16 to 65535 is allowed); the file is corrupt."
        )
    if not 1 <= info.sample_rate <= 655_350:
        raise refuse(
            f"The FLAC header gives an invalid sample rate ({info.sample_rate} Hz; 1 Hz to "
            "655,350 Hz is allowed); the file is corrupt."
        )
    if info.bits < 4:
        raise refuse(
            f"The FLAC header gives an invalid sample size ({info.bits} bits; 4 to 32 is "
            "allowed); the file is corrupt."
        )
    return info


def _check_comments(data: bytes, start: int, end: int) -> None:
    """Check the VORBIS_COMMENT layout: the tags must fill the block exactly (libsndfile)."""
    cursor = start
    vendor = int.from_bytes(data[cursor : cursor + 4], "little")
    cursor += 4 + vendor
    if cursor + 4 > end:
        raise refuse("The FLAC tag block (VORBIS_COMMENT) is corrupt; its vendor string overruns.")
    count = int.from_bytes(data[cursor : cursor + 4], "little")
    cursor += 4
    if count > FLAC_MAX_COMMENTS:
        raise refuse(f"The FLAC file has {count} tags; at most {FLAC_MAX_COMMENTS:,} are accepted.")
    for _ in range(count):
        if cursor + 4 > end:
            break
        cursor += 4 + int.from_bytes(data[cursor : cursor + 4], "little")
    if cursor != end:  # libsndfile refuses a tag block with bytes left over, too
        raise refuse(
            "The FLAC tag block (VORBIS_COMMENT) is corrupt; its tags do not fill it exactly."
        )


def _check_picture(data: bytes, start: int, end: int) -> None:
    """Check the PICTURE layout: MIME type, description and image lengths within the block."""
    cursor = start + 4
    for _ in range(2):  # MIME type, then description
        cursor += 4 + int.from_bytes(data[cursor : cursor + 4], "big")
        if cursor > end:
            raise refuse("The FLAC PICTURE block is corrupt; a length overruns it.")
    cursor += 16
    cursor += 4 + int.from_bytes(data[cursor : cursor + 4], "big")
    if cursor != end:  # libsndfile refuses a picture block with bytes left over, too
        raise refuse("The FLAC PICTURE block is corrupt; its image does not fill it exactly.")


def _check_cuesheet(data: bytes, start: int, end: int) -> None:
    """Check the CUESHEET layout: tracks and their index points fill the block exactly."""
    if end - start < 396:
        raise refuse("The FLAC CUESHEET block is too short; it is corrupt.")
    cursor = start + 396
    for _ in range(data[start + 395]):
        if cursor + 36 > end:
            break
        cursor += 36 + 12 * data[cursor + 35]
    if cursor != end:
        raise refuse("The FLAC CUESHEET block is corrupt; its tracks do not fill it exactly.")


def _walk_metadata(data: bytes, start: int, end: int) -> tuple[StreamInfo, int]:
    """Walk the metadata blocks after ``fLaC``; return STREAMINFO and where audio starts."""
    position = start + 4
    info: StreamInfo | None = None
    for count in range(FLAC_MAX_METADATA_BLOCKS + 1):
        if count == FLAC_MAX_METADATA_BLOCKS:
            raise refuse(
                f"The FLAC file has more than {FLAC_MAX_METADATA_BLOCKS} metadata blocks; "
                "real files have a handful. Re-encode it without the extra metadata."
            )
        if position + 4 > end:
            raise refuse("The FLAC file is truncated inside its metadata.")
        header = data[position]
        kind = header & 0x7F
        length = int.from_bytes(data[position + 1 : position + 4], "big")
        body_start = position + 4
        if body_start + length > end:
            name = _BLOCK_NAMES.get(kind, "metadata")
            raise refuse(
                f"The FLAC {name} block claims {length} bytes, past the end of the file; the "
                "file is truncated or corrupt."
            )
        if kind == 127:
            raise refuse("The FLAC file has an invalid metadata block type; it is corrupt.")
        if (kind == 0) != (count == 0):
            raise refuse(
                "The FLAC metadata does not start with exactly one STREAMINFO block; the file "
                "is corrupt."
            )
        if kind == 0:
            if length != 34:
                raise refuse("The FLAC STREAMINFO block has the wrong size; the file is corrupt.")
            info = _read_streaminfo(data[body_start : body_start + 34])
        elif kind == 3 and length % 18:
            raise refuse("The FLAC SEEKTABLE block has the wrong size; the file is corrupt.")
        elif kind == 4:
            _check_comments(data, body_start, body_start + length)
        elif kind == 6:
            _check_picture(data, body_start, body_start + length)
        elif kind == 5:
            _check_cuesheet(data, body_start, body_start + length)
        elif kind == 2 and length < 4:
            raise refuse("The FLAC APPLICATION block is too short; it is corrupt.")
        position = body_start + length
        if header & 0x80:
            break
    assert info is not None  # the first block was STREAMINFO
    return info, position


def _check_header(header: FrameHeader, info: StreamInfo, index: int, samples: int) -> None:
    if (
        header.channels == info.channels
        and header.bits in (0, info.bits)
        and header.sample_rate in (0, info.sample_rate)
        and header.block_size <= info.max_block
    ):
        return
    at_seconds = seconds(samples, info.sample_rate)
    where = "its first audio frame" if index == 0 else f"audio frame {index + 1} ({at_seconds})"
    if header.channels != info.channels:
        raise refuse(
            f"The FLAC header says {info.channels} channel(s) but {where} has "
            f"{header.channels}; the file is corrupt."
        )
    if header.bits and header.bits != info.bits:
        raise refuse(
            f"The FLAC header says {info.bits}-bit samples but {where} is {header.bits}-bit; "
            "the file is corrupt."
        )
    if header.sample_rate and header.sample_rate != info.sample_rate:
        raise refuse(
            f"The FLAC header says {info.sample_rate} Hz but {where} is "
            f"{header.sample_rate} Hz; the file is corrupt."
        )
    if header.block_size > info.max_block:
        raise refuse(
            f"{where[0].upper()}{where[1:]} of the FLAC file holds {header.block_size} samples, "
            f"more than the {info.max_block} its header allows; the file is corrupt."
        )


def _next_header(
    data: bytes, search: int, end: int, variable: bool, expected: int, budget: list[int]
) -> tuple[int, FrameHeader] | None:
    """Find the next believable frame header with the expected number before ``end``."""
    sync = b"\xff\xf9" if variable else b"\xff\xf8"
    while True:
        at = data.find(sync, search, end)
        if at < 0:
            return None
        budget[0] -= 1
        if budget[0] < 0:
            raise refuse(
                "The FLAC audio holds too many false frame starts to check in bounded time; "
                "the file is corrupt or crafted."
            )
        header = parse_frame_header(data, at)
        if header is not None and header.number == expected and at + header.length <= end:
            return at, header
        search = at + 1


def check_flac(data: bytes, start: int, end: int, max_frames: int) -> StreamFacts:
    """Prove the FLAC stream in ``data[start:end]`` (``end`` excludes trailing tags).

    Args:
        data: The whole file.
        start: Where ``fLaC`` is (after any ID3v2 tag).
        end: Where the FLAC stream ends (before an ID3v1 or APEv2 tag).
        max_frames: The cap on audio frames examined.

    Returns:
        The counted duration, the sample rate and the channel count.

    Raises:
        ValidationError: Anything a FLAC decoder would fail on, or a cap is exceeded.
    """
    info, position = _walk_metadata(data, start, end)
    first = parse_frame_header(data, position)
    if first is None:
        raise refuse(
            "The FLAC file has metadata but no valid audio frame after it; it is corrupt or "
            "truncated."
        )
    variable = first.variable
    budget = [max_frames + _MAX_CANDIDATE_SURPLUS]
    header: FrameHeader = first
    samples = 0
    checks = FrameChecks()
    walk_budget = WALK_RESIDUALS_PER_FRAME * max_frames  # about 260k residuals for 10 MB
    walks_left = max(64, max_frames // 100)  # ~1 in 256 real frames ends in 0x00
    for index in range(max_frames + 1):
        if index == max_frames:
            raise refuse(
                f"The FLAC file has more than {max_frames} audio frames, more than this size "
                "limit allows checking; re-encode it with the default block size."
            )
        _check_header(header, info, index, samples)
        expected_number = samples if variable else header.number
        if header.number != expected_number or (not variable and header.number != index):
            raise refuse(
                f"The FLAC audio frames are out of order at frame {index + 1}; it is corrupt."
            )
        samples += header.block_size
        found = _next_header(
            data,
            position + header.length + 1,
            end,
            variable,
            samples if variable else index + 1,
            budget,
        )
        if found is not None and not data[found[0] - 1]:
            # A CRC stays valid when zero bytes follow the frame: measure such a frame exactly.
            walk_budget -= header.block_size * header.channels
            walks_left -= 1
            if walk_budget < 0 or walks_left < 0:
                raise refuse(
                    "The FLAC file has too many audio frames ending in a zero byte to check in "
                    "bounded time; it is corrupt or crafted."
                )
            true_end = measure_frame(
                memoryview(data)[position : found[0]],
                header.length,
                header.block_size,
                header.channel_code,
                header.bits or info.bits,
            )
            if true_end != found[0] - position:
                raise refuse(
                    f"The FLAC file is corrupt: audio frame {index + 1} (at "
                    f"{seconds(samples - header.block_size, info.sample_rate)}) is followed by "
                    "bytes that are not audio, where decoders lose sync."
                )
        if found is not None:
            if not checks.add(memoryview(data)[position : found[0]]):
                stamp = seconds(samples - header.block_size, info.sample_rate)
                raise refuse(
                    f"The FLAC file is corrupt: audio frame {index + 1} (at {stamp}) fails its "
                    "checksum."
                )
        elif not remainder_is_zero(memoryview(data)[position:end]):
            stamp = seconds(samples - header.block_size, info.sample_rate)
            raise refuse(
                f"The FLAC file is truncated or corrupt: its last audio frame (at {stamp}) "
                "fails its checksum."
            )
        if found is None:
            check_last_frame_length(
                data[position:end],
                header.length,
                header.block_size,
                header.channel_code,
                header.bits or info.bits,
            )
            break
        position, header = found
    if not checks.all_valid():
        raise refuse("The FLAC file is corrupt: at least one audio frame fails its checksum.")
    if info.total_samples and samples < info.total_samples:
        raise refuse(
            f"The FLAC file is truncated: its header describes "
            f"{seconds(info.total_samples, info.sample_rate)} of audio but its frames stop at "
            f"{seconds(samples, info.sample_rate)}."
        )
    return StreamFacts(samples / info.sample_rate, info.sample_rate, info.channels)
