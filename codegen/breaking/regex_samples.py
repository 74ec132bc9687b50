"""Strings that match a regular expression, built from its parse tree (no examples needed)."""

from __future__ import annotations

import importlib
import random
import re
from typing import Any

from runtime.contracts import ecma_pattern

__all__ = ["samples"]

# The parser behind ``re`` (``re._parser`` since Python 3.11; no public API parses a pattern).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")


_CATEGORY = {
    "CATEGORY_DIGIT": "0123456789",
    "CATEGORY_NOT_DIGIT": "aZ_-",
    "CATEGORY_WORD": "aZ0_",
    "CATEGORY_NOT_WORD": " -.",
    "CATEGORY_SPACE": " \t",
    "CATEGORY_NOT_SPACE": "a0",
}
_PRINTABLE = [chr(c) for c in range(32, 127)]


def samples(pattern: str, count: int = 8) -> list[str]:
    """Up to ``count`` distinct strings matching ``pattern`` (ECMA-262 ``$``), shortest first.

    Returns an empty list for a pattern Python cannot parse.
    """
    python = ecma_pattern(pattern)
    try:
        tree = sre_parse.parse(python)
        compiled = re.compile(python)
    except (re.error, RecursionError, OverflowError):
        return []
    found: list[str] = []
    for mode in range(count * 3):
        rng = random.Random(mode)
        try:
            text = _build(tree, mode, rng, {})
        except (ValueError, RecursionError, IndexError):
            continue
        if text not in found and compiled.search(text):
            found.append(text)
        if len(found) >= count:
            break
    return sorted(found, key=len)


def _build(items: Any, mode: int, rng: random.Random, groups: dict[int, str]) -> str:
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a" if mode == 0 else rng.choice(_PRINTABLE))
        elif name == "IN":
            out.append(_pick(arg, mode, rng))
        elif name == "BRANCH":
            branches = arg[1]
            choice = branches[0] if mode == 0 else branches[rng.randrange(len(branches))]
            out.append(_build(choice, mode, rng, groups))
        elif name == "SUBPATTERN":
            group, body = arg[0], arg[-1]
            text = _build(body, mode, rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = arg
            if high == sre_constants.MAXREPEAT:
                high = low + 4
            times = (
                low if mode == 0 else (high if mode == 1 else rng.randint(low, min(high, low + 4)))
            )
            out.extend(_build(body, mode, rng, groups) for _ in range(times))
        elif name == "GROUPREF":
            out.append(groups.get(arg, ""))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise ValueError(name)
    return "".join(out)


def _pick(options: Any, mode: int, rng: random.Random) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in options:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            low, high = arg
            chars.extend(chr(c) for c in (low, high, (low + high) // 2))
        elif name == "CATEGORY":
            chars.extend(_CATEGORY.get(str(arg), "a"))
    if negate:
        pool = [c for c in _PRINTABLE if c not in chars] or ["\u00e9"]
        return pool[0] if mode == 0 else rng.choice(pool)
    if not chars:
        raise ValueError("empty class")
    return chars[0] if mode == 0 else rng.choice(chars)
