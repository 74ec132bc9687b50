"""MP3 (MPEG-1/2/2.5 Layer III): a walk of every frame header from the first to the last.

Each frame header gives the frame's length, so the walk lands exactly on the next header or the
file is broken there. The walk checks that every header is a valid Layer III header of the same
version, sample rate and channel layout, that each frame's side information holds values a
decoder accepts (FFmpeg refuses ``big_values`` above 288 and a switched window of block type 0),
that the last frame is complete, and that nothing but ID3v1/APEv2/Lyrics3 tags follows it. A
Xing/Info or VBRI header must state the number of frames actually present; its frame is not
audio, and the LAME encoder delay and padding it gives are trimmed as decoders do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from runtime.validation._common import StreamFacts, refuse, seconds

_BITRATES: Final = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0),
}
_RATES: Final = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_DECODER_DELAY: Final = 529  # samples the MP3 decoder outputs before the first real sample


def _length_table() -> tuple[int, ...]:
    """Frame length by ``(byte1 & 0x1F) << 8 | byte2`` of a Layer III header (0: invalid)."""
    table = []
    for key in range(32 * 256):
        byte1, byte2 = 0xE0 | (key >> 8), key & 0xFF
        version, layer = (byte1 >> 3) & 3, (byte1 >> 1) & 3
        bitrate_index, rate_index = byte2 >> 4, (byte2 >> 2) & 3
        if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
            table.append(0)
            continue
        mpeg1 = version == 3
        bitrate = _BITRATES[mpeg1][bitrate_index] * 1000
        rate = _RATES[version][rate_index]
        table.append((144 if mpeg1 else 72) * bitrate // rate + ((byte2 >> 1) & 1))
    return tuple(table)


_LENGTHS: Final = _length_table()


def describe_mpeg_header(head: bytes) -> str | None:
    """Name an MPEG audio frame that is not Layer III (MP1/MP2), or ``None``."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    if version == 1 or head[2] >> 4 == 15 or (head[2] >> 2) & 3 == 3:
        return None
    if layer == 1 and head[2] >> 4 == 0:
        return "free-format MP3 or a corrupt MP3 frame (no bitrate in the first frame header)"
    if layer == 2:
        return "MP2 (MPEG audio Layer II)"
    if layer == 3:
        return "MP1 (MPEG audio Layer I)"
    return None


def is_mp3_header(head: bytes) -> bool:
    """Return whether ``head`` starts with a valid MPEG Layer III frame header."""
    return (
        len(head) >= 4
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and _LENGTHS[((head[1] & 0x1F) << 8) | head[2]] > 0
    )


def _side_info_layout(mpeg1: bool, mono: bool) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Return the side-info length and the shifts of its checked fields.

    Per granule and channel: the shift of big_values and of window_switching_flag + block_type
    within the side info read as one big-endian integer.
    """
    channels = 1 if mono else 2
    if mpeg1:
        length, offset, per, scale_bits, granules = (17 if mono else 32), 0, 59, 4, 2
        offset = 9 + (5 if mono else 3) + 4 * channels
    else:
        length, per, scale_bits, granules = (9 if mono else 17), 63, 9, 1
        offset = 8 + (1 if mono else 2)
    total = length * 8
    fields = []
    for _ in range(granules * channels):
        big_values = offset + 12
        switch = big_values + 9 + 8 + scale_bits
        fields.append((total - big_values - 9, total - switch - 3))
        offset += per
    return length, tuple(fields)


def _xing(data: bytes, frame: int, side: int) -> tuple[int | None, int, int] | None:
    """Read a Xing/Info or VBRI header in the frame at ``frame``.

    Returns (frames stated or None, encoder delay, padding), or ``None`` when there is none.
    """
    at = frame + 4 + side
    tag = data[at : at + 4]
    if tag in (b"Xing", b"Info"):
        flags = int.from_bytes(data[at + 4 : at + 8], "big")
        cursor = at + 8
        frames = None
        if flags & 1:
            frames = int.from_bytes(data[cursor : cursor + 4], "big") or None
            cursor += 4
        cursor += (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
        delay = padding = 0
        if data[cursor : cursor + 4] in (b"LAME", b"Lavf", b"Lavc"):
            packed = int.from_bytes(data[cursor + 21 : cursor + 24], "big")
            delay, padding = packed >> 12, packed & 0xFFF
        return frames, delay, padding
    if data[frame + 36 : frame + 40] == b"VBRI":
        frames = int.from_bytes(data[frame + 50 : frame + 54], "big") or None
        return frames, 0, 0
    return None


def check_mp3(
    data: bytes, start: int, end: int, max_frames: int, describe: Callable[[bytes], str]
) -> StreamFacts:
    """Prove the MP3 frames in ``data[start:end]`` (``end`` excludes trailing tags).

    Args:
        data: The whole file.
        start: Where the first frame starts (after ID3v2 tags).
        end: Where trailing tags begin (``len(data)`` when there are none).
        max_frames: The cap on frames examined.
        describe: A callable naming what some bytes are (for the message about junk).

    Returns:
        The duration of the audio frames, the sample rate and the channel count.

    Raises:
        ValidationError: A frame is invalid, inconsistent or cut short, something other than
            tags follows the frames, a Xing/VBRI frame count disagrees, or the cap is exceeded.
    """
    byte1, byte2, byte3 = data[start + 1], data[start + 2], data[start + 3]
    version = (byte1 >> 3) & 3
    mpeg1 = version == 3
    rate = _RATES[version][(byte2 >> 2) & 3]
    mono = byte3 >> 6 == 3
    per_frame = 1152 if mpeg1 else 576
    side, fields = _side_info_layout(mpeg1, mono)
    same1, same_rate = byte1 | 1, byte2 & 0x0C
    lengths = _LENGTHS
    xing = _xing(data, start, side)
    position = start
    frames = 0
    while position < end:
        if frames >= max_frames:
            raise refuse(
                f"The MP3 file has more than {max_frames} audio frames, more than this size "
                "limit allows checking; upload a shorter or higher-bitrate file."
            )
        head = data[position : position + 4]
        if (
            len(head) < 4
            or head[0] != 0xFF
            or head[1] | 1 != same1
            or head[2] & 0x0C != same_rate
            or (head[3] >> 6 == 3) != mono
        ):
            break
        length = lengths[((head[1] & 0x1F) << 8) | head[2]]
        if not length:
            break
        if position + length > end:
            raise refuse(
                f"The MP3 file is truncated: its last audio frame (at "
                f"{seconds(frames * per_frame, rate)}) is cut short."
            )
        info_at = position + 4 + (0 if head[1] & 1 else 2)
        info = int.from_bytes(data[info_at : info_at + side], "big")
        if frames == 0 and xing is not None:
            info = 0  # a Xing/Info/VBRI frame is skipped by decoders, never decoded
        for big_values_shift, switch_shift in fields:
            if (info >> big_values_shift) & 0x1FF > 288 or (info >> switch_shift) & 7 == 4:
                raise refuse(
                    f"The MP3 file is corrupt: audio frame {frames + 1} (at "
                    f"{seconds(frames * per_frame, rate)}) has invalid side information."
                )
        position += length
        frames += 1
    if position < end and is_mp3_header(data[position : position + 4]):
        raise refuse(
            f"The MP3 frame {frames + 1} (at {seconds(frames * per_frame, rate)}) has a header "
            "that does not match the stream (another MPEG version, sample rate or channel "
            "layout); the file is corrupt or two files joined."
        )
    if position < end:
        what = describe(data[position : position + 512])
        raise refuse(
            f"The MP3 audio stops after {frames} frame(s) ({seconds(frames * per_frame, rate)}) "
            f"and is followed by {end - position} bytes that are not MP3 audio (they are "
            f"{what}); only ID3v1 and APEv2 tags may follow the audio."
        )
    first = start
    if xing is not None:  # decoders read the Xing/Info/VBRI frame apart, then the audio
        first += lengths[((byte1 & 0x1F) << 8) | byte2]
    second = first + lengths[((data[first + 1] & 0x1F) << 8) | data[first + 2]]
    if frames > (2 if xing is not None else 1) and (data[first + 3] ^ data[second + 3]) & 0xCF:
        # FFmpeg starts at the first frame whose mode, copyright, original and emphasis bits
        # match the frames after it, so it would skip this one.
        raise refuse(
            "The first MP3 audio frame header does not match the frames after it (channel mode, "
            "copyright, original or emphasis bits); decoders skip it, so the file is corrupt."
        )
    return _facts(xing, frames, per_frame, rate, 1 if mono else 2)


def _facts(
    header: tuple[int | None, int, int] | None,
    frames: int,
    per_frame: int,
    rate: int,
    channels: int,
) -> StreamFacts:
    audio_frames = frames
    delay = padding = 0
    if header is not None:
        stated, delay, padding = header
        audio_frames = frames - 1  # the Xing/Info/VBRI frame carries no audio
        # Fewer frames stated than present: decoders play them all, so the count decides.
        if stated is not None and stated > audio_frames:
            raise refuse(
                f"The MP3 file is truncated: its header describes "
                f"{seconds(stated * per_frame, rate)} of audio ({stated} frames) but only "
                f"{audio_frames} frames ({seconds(audio_frames * per_frame, rate)}) are "
                "present."
            )
    samples = audio_frames * per_frame - delay - padding
    if samples <= 0:
        raise refuse("The MP3 file contains no audio frames (its duration is 0).")
    return StreamFacts(samples / rate, rate, channels)
