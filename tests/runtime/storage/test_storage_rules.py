"""Bucket allow-list, path rules and content-type detection (no network)."""

from __future__ import annotations

import pytest

from runtime.errors import ConfigError, ValidationError
from runtime.storage.buckets import (
    DEFAULT_BUCKETS,
    MAX_PATH_BYTES,
    MIB,
    BucketPolicy,
    validate_object_path,
)
from runtime.validation import normalize_content_type, sniff_content_type

# Real leading bytes of each format.
SAMPLES = {
    "audio/mpeg (ID3)": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 20, "audio/mpeg"),
    "audio/mpeg (frame)": (b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio/mpeg"),
    "audio/wav": (b"RIFF\x24\x08\x00\x00WAVEfmt ", "audio/wav"),
    "audio/flac": (b"fLaC\x00\x00\x00\x22", "audio/flac"),
    "audio/ogg": (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
    "audio/aac": (b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac"),
    "audio/mp4": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
    "image/png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    "image/jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    "image/webp": (b"RIFF\x24\x08\x00\x00WEBPVP8 ", "image/webp"),
    "image/gif": (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    "video/mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video/mp4"),
    "video/quicktime": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    "video/webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
    "video/x-matroska": (b"\x1a\x45\xdf\xa3\xa3\x42\x82\x88matroska", "video/x-matroska"),
    "video/x-msvideo": (b"RIFF\x24\x08\x00\x00AVI LIST", "video/x-msvideo"),
}


@pytest.mark.parametrize(("head", "expected"), list(SAMPLES.values()), ids=list(SAMPLES))
def test_content_type_is_detected_from_leading_bytes(head: bytes, expected: str) -> None:
    assert sniff_content_type(head) == expected


@pytest.mark.parametrize(
    "head",
    [b"", b"hello world", b"%PDF-1.7", b"\xff\xfb\xf0\x00", b"RIFF\x00\x00\x00\x00XXXX"],
    ids=["empty", "text", "pdf", "bad-mp3-bitrate", "unknown-riff"],
)
def test_unknown_bytes_have_no_content_type(head: bytes) -> None:
    assert sniff_content_type(head) is None


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("audio/mp3", "audio/mpeg"),
        ("Audio/X-WAV; charset=binary", "audio/wav"),
        ("image/jpg", "image/jpeg"),
        ("video/MP4", "video/mp4"),
        ("application/x-custom", "application/x-custom"),
    ],
)
def test_content_type_aliases_are_normalised(given: str, canonical: str) -> None:
    assert normalize_content_type(given) == canonical


def test_the_allow_list_is_the_four_prd_buckets_with_documented_limits() -> None:
    limits = {name: policy.max_size_bytes for name, policy in DEFAULT_BUCKETS.items()}
    assert limits == {
        "audio-uploads": 10 * MIB,
        "reference-images": 10 * MIB,
        "video-clips": 100 * MIB,
        "video-outputs": 500 * MIB,
    }
    assert DEFAULT_BUCKETS["audio-uploads"].allowed_content_types == {
        "audio/mpeg",
        "audio/wav",
        "audio/flac",
    }
    assert not any(policy.public for policy in DEFAULT_BUCKETS.values())


def test_policy_accepts_an_alias_of_an_allowed_type() -> None:
    policy = DEFAULT_BUCKETS["audio-uploads"]
    assert policy.check_content_type("audio/x-wav", path="a.wav", source="given") == "audio/wav"


def test_policy_refuses_a_type_the_bucket_does_not_take() -> None:
    with pytest.raises(ValidationError) as info:
        DEFAULT_BUCKETS["audio-uploads"].check_content_type(
            "video/mp4", path="a.mp4", source="given"
        )
    assert info.value.code == "content_type_not_allowed"


def test_policy_refuses_a_file_over_its_limit() -> None:
    with pytest.raises(ValidationError) as info:
        DEFAULT_BUCKETS["audio-uploads"].check_size(10 * MIB + 1, path="a.mp3")
    assert info.value.code == "file_too_large"
    assert info.value.details["max_size_bytes"] == 10 * MIB


def test_policy_refuses_an_empty_file() -> None:
    with pytest.raises(ValidationError) as info:
        DEFAULT_BUCKETS["audio-uploads"].check_size(0, path="a.mp3")
    assert info.value.code == "empty_file"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "b", "max_size_bytes": 0, "allowed_content_types": frozenset({"video/mp4"})},
        {"name": "b", "max_size_bytes": 1, "allowed_content_types": frozenset()},
    ],
    ids=["no-size", "no-types"],
)
def test_a_policy_without_limits_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        BucketPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path",
    ["user/job/file.mp3", "a", "job_1/clip (0).mp4", "x/y/z-1.2_3!*'&$@=;:+,.png"],
)
def test_valid_paths_are_accepted(path: str) -> None:
    assert validate_object_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "empty"),
        ("/abs/file.mp3", "starts with '/'"),
        ("dir/", "ends with '/'"),
        ("a//b.mp3", "empty segment"),
        ("a/../b.mp3", "'..'"),
        ("./b.mp3", "'.'"),
        ("a\\b.mp3", "characters"),
        ("naïve.mp3", "characters"),
        ("a/b\n.mp3", "characters"),
        ("a%2F..%2Fb", "characters"),
        ("job/take?1.mp4", "InvalidSignature"),
        ("job/clip.mp4?download=1", "'\\?'"),
        ("job/clip#1.mp4", "characters"),
        ("x" * (MAX_PATH_BYTES + 1), "longer than"),
    ],
)
def test_invalid_paths_are_refused_with_the_rule_broken(path: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as info:
        validate_object_path(path)
    assert info.value.code == "invalid_path"


def test_a_non_string_path_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_object_path(b"a.mp3")  # type: ignore[arg-type]
