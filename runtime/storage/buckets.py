"""The storage buckets the pipeline may use, their limits, and object path rules.

Only the four buckets of the PRD are allowed, each with a size limit and a content-type allow-list:

- ``audio-uploads``: up to 10 MiB of ``audio/mpeg``, ``audio/wav`` or ``audio/flac`` (the PRD's
  MP3, WAV and FLAC up to 10 MB).
- ``reference-images``: up to 10 MiB of ``image/png``, ``image/jpeg`` or ``image/webp`` (a
  generated still is a few MB).
- ``video-clips``: up to 100 MiB of ``video/mp4``, ``video/webm`` or ``video/quicktime`` (a clip
  is a few seconds of generated video).
- ``video-outputs``: up to 500 MiB of the same video types (a final music video of several
  minutes).

The same limits are what :meth:`runtime.storage.StorageClient.ensure_buckets` configures on the
server (``file_size_limit``, ``allowed_mime_types``, private), so the client refuses early what the
server would refuse late.

Object paths follow the Storage API's key rules, checked before any request is made: relative
(no leading ``/``), no empty segments (``a//b``) or trailing ``/``, no ``.`` or ``..`` segments,
at most :data:`MAX_PATH_BYTES` bytes, and only the characters the Storage API accepts in keys
(letters, digits and ``_/!-.*'() &$@=;:+,``). ``?`` is refused although Storage accepts it in
keys: the signed URL it makes for such a key always fails with 400 InvalidSignature (``#`` and
``%``, which a URL would also mangle, are outside the set anyway).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from runtime.errors import ConfigError, ValidationError
from runtime.validation import normalize_content_type

__all__ = [
    "AUDIO_UPLOADS",
    "DEFAULT_BUCKETS",
    "MAX_PATH_BYTES",
    "MIB",
    "REFERENCE_IMAGES",
    "VIDEO_CLIPS",
    "VIDEO_OUTPUTS",
    "BucketPolicy",
    "validate_object_path",
]

MIB = 1024 * 1024

#: Longest object path accepted, in UTF-8 bytes (the S3 key limit the Storage API inherits).
MAX_PATH_BYTES = 1024

# The Storage API's isValidKey character set (S3 "safe" characters plus a few it handles).
_VALID_KEY = re.compile(r"[A-Za-z0-9_/!\-.*'() &$@=;:+,]+")

AUDIO_UPLOADS = "audio-uploads"
REFERENCE_IMAGES = "reference-images"
VIDEO_CLIPS = "video-clips"
VIDEO_OUTPUTS = "video-outputs"

_VIDEO_TYPES = frozenset({"video/mp4", "video/webm", "video/quicktime"})


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    """What one bucket accepts.

    Attributes:
        name: The bucket id.
        max_size_bytes: Largest object accepted, in bytes.
        allowed_content_types: Canonical content types accepted (see
            :func:`runtime.validation.normalize_content_type`).
        public: Whether the bucket is public; every pipeline bucket is private.

    Raises:
        ConfigError: The limit is not positive or no content type is allowed.
    """

    name: str
    max_size_bytes: int
    allowed_content_types: frozenset[str]
    public: bool = False

    def __post_init__(self) -> None:
        if self.max_size_bytes < 1:
            raise ConfigError(f"max_size_bytes must be >= 1, got {self.max_size_bytes}")
        if not self.allowed_content_types:
            raise ConfigError(f"bucket {self.name!r} must allow at least one content type")
        canonical = frozenset(normalize_content_type(t) for t in self.allowed_content_types)
        object.__setattr__(self, "allowed_content_types", canonical)

    def check_size(self, size_bytes: int, *, path: str) -> None:
        """Refuse an object larger than this bucket accepts.

        Args:
            size_bytes: The object's size.
            path: The object path, for the message.

        Raises:
            ValidationError: ``code="file_too_large"`` when ``size_bytes`` exceeds the limit,
                ``code="empty_file"`` when it is zero.
        """
        if size_bytes == 0:
            raise ValidationError(
                f"refusing to store an empty file at {self.name}/{path}", code="empty_file"
            )
        if size_bytes > self.max_size_bytes:
            raise ValidationError(
                f"{self.name}/{path} is {size_bytes} bytes; bucket {self.name!r} accepts at most "
                f"{self.max_size_bytes} bytes ({self.max_size_bytes / MIB:g} MiB)",
                code="file_too_large",
                details={"size_bytes": size_bytes, "max_size_bytes": self.max_size_bytes},
            )

    def check_content_type(self, content_type: str, *, path: str, source: str) -> str:
        """Return the canonical content type if this bucket accepts it.

        Args:
            content_type: The type to check (any alias spelling).
            path: The object path, for the message.
            source: Where the type came from (``"given"``, ``"detected"``), for the message.

        Returns:
            The canonical spelling of ``content_type``.

        Raises:
            ValidationError: ``code="content_type_not_allowed"`` when the bucket refuses the type.
        """
        canonical = normalize_content_type(content_type)
        if canonical not in self.allowed_content_types:
            allowed = ", ".join(sorted(self.allowed_content_types))
            raise ValidationError(
                f"{self.name}/{path}: {source} content type {canonical!r} is not allowed in "
                f"bucket {self.name!r} (allowed: {allowed})",
                code="content_type_not_allowed",
                details={"content_type": canonical, "allowed": sorted(self.allowed_content_types)},
            )
        return canonical


DEFAULT_BUCKETS: Mapping[str, BucketPolicy] = MappingProxyType(
    {
        AUDIO_UPLOADS: BucketPolicy(
            AUDIO_UPLOADS, 10 * MIB, frozenset({"audio/mpeg", "audio/wav", "audio/flac"})
        ),
        REFERENCE_IMAGES: BucketPolicy(
            REFERENCE_IMAGES, 10 * MIB, frozenset({"image/png", "image/jpeg", "image/webp"})
        ),
        VIDEO_CLIPS: BucketPolicy(VIDEO_CLIPS, 100 * MIB, _VIDEO_TYPES),
        VIDEO_OUTPUTS: BucketPolicy(VIDEO_OUTPUTS, 500 * MIB, _VIDEO_TYPES),
    }
)


def validate_object_path(path: str) -> str:
    """Check an object path against the Storage API's key rules.

    Args:
        path: A path inside a bucket, such as ``"user_id/job_id/file.mp3"``.

    Returns:
        ``path`` unchanged.

    Raises:
        ValidationError: ``code="invalid_path"``, naming the rule the path breaks.
    """
    if not isinstance(path, str):
        raise ValidationError(
            f"object path must be a string, got {type(path).__name__}", code="invalid_path"
        )
    problem: str | None = None
    if not path:
        problem = "is empty"
    elif len(path.encode("utf-8")) > MAX_PATH_BYTES:
        problem = f"is longer than {MAX_PATH_BYTES} bytes"
    elif path.startswith("/"):
        problem = "starts with '/' (paths are relative to the bucket)"
    elif path.endswith("/"):
        problem = "ends with '/' (a path names a file, not a folder)"
    elif "//" in path:
        problem = "has an empty segment ('//')"
    elif any(segment in (".", "..") for segment in path.split("/")):
        problem = "has a '.' or '..' segment"
    elif "?" in path:
        problem = (
            "has '?': Storage stores such a key, but its signed URLs for it always fail "
            "(400 InvalidSignature)"
        )
    elif _VALID_KEY.fullmatch(path) is None:
        bad = sorted({ch for ch in path if _VALID_KEY.fullmatch(ch) is None})
        problem = f"has characters the Storage API refuses in keys: {bad!r}"
    if problem is not None:
        raise ValidationError(
            f"invalid object path {path[:120]!r}: it {problem}",
            code="invalid_path",
            details={"path": path[:MAX_PATH_BYTES]},
        )
    return path
