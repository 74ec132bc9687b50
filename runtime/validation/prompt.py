"""File sizes and user prompts: :func:`validate_file_size` and :func:`validate_prompt`."""

from __future__ import annotations

import unicodedata
from typing import Final

from runtime.errors import ValidationError

__all__ = ["validate_file_size", "validate_prompt"]

_MB: Final = 1024 * 1024
_PLAIN_WHITESPACE: Final = frozenset(" \t\n\r")


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------


def _human(size: int) -> str:
    return f"{size / _MB:.1f} MB ({size} bytes)"


def validate_file_size(size: int, max_size_bytes: int, *, min_size_bytes: int = 1) -> int:
    """Check that a size in bytes is within bounds.

    Args:
        size: The size to check, in bytes.
        max_size_bytes: The largest size allowed.
        min_size_bytes: The smallest size allowed (default 1: empty files are refused).

    Returns:
        ``size``, unchanged.

    Raises:
        ValidationError: ``size`` is not a non-negative integer, is below ``min_size_bytes``
            (an empty file) or above ``max_size_bytes``.
        ValueError: The bounds themselves are invalid (a programming error).
    """
    for name, bound in (("max_size_bytes", max_size_bytes), ("min_size_bytes", min_size_bytes)):
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise ValueError(f"{name} must be a non-negative int, got {bound!r}")
    if min_size_bytes > max_size_bytes:
        raise ValueError("min_size_bytes must not exceed max_size_bytes")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValidationError(f"File size must be a whole number of bytes >= 0, got {size!r}.")
    if size < min_size_bytes:
        if size == 0:
            raise ValidationError("File is empty; upload a file with content.")
        raise ValidationError(
            f"File is too small: {size} bytes; the minimum is {min_size_bytes} bytes."
        )
    if size > max_size_bytes:
        raise ValidationError(
            f"File is too large: {_human(size)}; the maximum is {_human(max_size_bytes)}."
        )
    return size


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------

_ALLOWED_FORMAT_CHARS: Final = frozenset({"\u200d"})  # zero-width joiner inside emoji sequences


def validate_prompt(prompt: str, min_length: int = 50, max_length: int = 500) -> str:
    """Clean a user prompt and check its length and characters.

    The prompt is Unicode-normalised (NFC), every run of whitespace (spaces, tabs, newlines)
    becomes one space and the ends are stripped, so padding cannot make a short prompt long
    enough. Lengths count Unicode code points of the cleaned text.

    Args:
        prompt: The text the user typed.
        min_length: Fewest characters allowed after cleaning (default 50).
        max_length: Most characters allowed after cleaning (default 500).

    Returns:
        The cleaned prompt, which callers should store and use.

    Raises:
        ValidationError: The prompt is not text, contains control, invisible formatting or
            bidirectional-override characters, or is shorter/longer than allowed.
        ValueError: The bounds are invalid (a programming error).
    """
    for name, bound in (("min_length", min_length), ("max_length", max_length)):
        if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
            raise ValueError(f"{name} must be a non-negative int, got {bound!r}")
    if min_length > max_length:
        raise ValueError("min_length must not exceed max_length")
    if not isinstance(prompt, str):
        raise ValidationError(f"Prompt must be text, got {type(prompt).__name__}.")
    text = unicodedata.normalize("NFC", prompt)
    for index, char in enumerate(text):
        if char in _PLAIN_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category == "Zs":  # spaces (no-break, ideographic...) collapse to one space below
            continue
        if category in ("Cc", "Zl", "Zp"):
            raise ValidationError(
                f"Prompt contains a control character (U+{ord(char):04X}) at position "
                f"{index}; use printable text only."
            )
        if category == "Cs":
            raise ValidationError("Prompt contains an invalid (surrogate) character.")
        if category == "Cf" and char not in _ALLOWED_FORMAT_CHARS:
            raise ValidationError(
                f"Prompt contains an invisible formatting character (U+{ord(char):04X}, "
                f"{unicodedata.name(char, 'unnamed')}) at position {index}; remove it."
            )
        if category in ("Co", "Cn"):
            raise ValidationError(
                f"Prompt contains a private-use or unassigned character (U+{ord(char):04X}) at "
                f"position {index}; use standard characters only."
            )
    cleaned = " ".join(text.split())
    length = len(cleaned)
    allowed = f"it must be {min_length} to {max_length} characters"
    if length < min_length:
        raise ValidationError(
            f"Prompt is too short: {length} characters after trimming whitespace; {allowed}."
        )
    if length > max_length:
        raise ValidationError(f"Prompt is too long: {length} characters; {allowed}.")
    return cleaned
