"""Tags around the audio: leading ID3v2 tags and trailing ID3v1 and APEv2 tags.

Lyrics3 tags are not skipped: FFmpeg reports an error on them, so they are refused.

Decoders skip these without reading them, so they are skipped by their declared sizes only
(never parsed frame by frame: that is what made a tag of 740k tiny frames take a minute).
"""

from __future__ import annotations

from runtime.validation._common import ID3V2_MAX_TAGS, refuse


def _id3v2_size(data: bytes, at: int) -> int | None:
    """Return the full size of the ID3v2 tag at ``at``, or ``None`` when there is none."""
    if data[at : at + 3] != b"ID3":
        return None
    header = data[at : at + 10]
    if len(header) < 10:
        raise refuse("The file has a truncated ID3 tag header and no audio.")
    if header[3] == 0xFF or header[4] == 0xFF or any(b & 0x80 for b in header[6:10]):
        raise refuse("The file's ID3 tag header is corrupt (invalid version or size field).")
    size = 0
    for byte in header[6:10]:
        size = (size << 7) | byte
    return 10 + size + (10 if header[5] & 0x10 else 0)


def skip_id3v2(data: bytes) -> int:
    """Return where the content starts after any leading ID3v2 tags (0 when there is none)."""
    position = 0
    for _ in range(ID3V2_MAX_TAGS):
        size = _id3v2_size(data, position)
        if size is None:
            break
        position += size
    else:
        if _id3v2_size(data, position) is not None:
            raise refuse(
                f"The file starts with more than {ID3V2_MAX_TAGS} ID3 tags in a row; it is "
                "corrupt or crafted."
            )
    if position and position >= len(data):
        raise refuse("The file is only an ID3 tag with no audio after it; upload the audio itself.")
    return position


def _apev2_start(data: bytes, start: int, end: int) -> int | None:
    if end - 32 < start or data[end - 32 : end - 24] != b"APETAGEX":
        return None
    size = int.from_bytes(data[end - 20 : end - 16], "little")  # items + footer
    flags = int.from_bytes(data[end - 12 : end - 8], "little")
    begin = end - size - (32 if flags & 0x80000000 else 0)
    if size < 32 or begin < start:
        return None
    if flags & 0x80000000 and data[begin : begin + 8] != b"APETAGEX":
        return None
    return begin


def trailing_tags_start(data: bytes, start: int) -> tuple[int, list[str]]:
    """Return where trailing tags begin (``len(data)`` when there are none) and their names."""
    end = len(data)
    names: list[str] = []
    for _ in range(4):
        if end - 128 >= start and data[end - 128 : end - 125] == b"TAG":
            end -= 128
            names.append("ID3v1")
            continue
        begin = _apev2_start(data, start, end)
        if begin is not None:
            end = begin
            names.append("APEv2")
            continue
        break
    return end, names
