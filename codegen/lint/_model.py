"""Findings, JSON pointers and "did you mean" suggestions."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from codegen.lint._rules import RULES

__all__ = ["Finding", "pointer", "show", "suggest"]


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: rule id, file (as given to the lint), JSON pointer, what is wrong, the fix."""

    file: str
    pointer: str
    rule: str
    message: str
    fix: str

    @property
    def name(self) -> str:
        """The rule's short name (``unknown-keyword``)."""
        return RULES[self.rule].name

    def to_dict(self) -> dict[str, str]:
        """The finding as JSON-ready fields (``--format json``)."""
        return {
            "rule": self.rule,
            "name": self.name,
            "file": self.file,
            "pointer": self.pointer,
            "message": self.message,
            "fix": self.fix,
        }

    def render(self) -> str:
        """Two lines: ``file#pointer: VG002 unknown-keyword: message`` and the fix."""
        where = f"{self.file}#{self.pointer}" if self.pointer else self.file
        return f"{where}: {self.rule} {self.name}: {self.message}\n    fix: {self.fix}"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from its reference tokens."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (a misspelling), or ``None`` when none is close."""
    pool = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.75)
    if not matches:
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
        matches = [lowered[m] for m in matches]
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean "x"?`` or an empty string."""
    best = suggest(word, candidates)
    return f' Did you mean "{best}"?' if best is not None else ""


def show(value: Any, limit: int = 80) -> str:
    """A short JSON rendering of a value for a message (long values are cut)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
