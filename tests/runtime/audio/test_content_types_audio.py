"""Content sniffing of audio for storage: FLAC behind an ID3v2 tag is FLAC, not MP3."""

from __future__ import annotations

from runtime.validation import sniff_content_type


def test_flac_behind_a_short_id3_tag_is_sniffed_as_flac(by_name: dict[str, bytes]) -> None:
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10)
    assert sniff_content_type((tag + by_name["flac_16_stereo.flac"])[:512]) == "audio/flac"


def test_mp3_behind_an_id3_tag_is_sniffed_as_mpeg(by_name: dict[str, bytes]) -> None:
    assert sniff_content_type(by_name["lame_id3v2.mp3"][:512]) == "audio/mpeg"
