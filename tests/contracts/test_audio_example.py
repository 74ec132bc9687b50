"""The AudioAnalysis example is a whole song, shaped as the analysis stage produces it: a
three-minute track whose beats, sections, lyric lines and clip boundaries fit together."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from runtime.contracts import dereferenced_schema

EXAMPLE: dict[str, Any] = dereferenced_schema("audio", "AudioAnalysis")["examples"][0]


def test_example_is_a_song_of_about_three_minutes() -> None:
    assert 150 <= EXAMPLE["duration"] <= 240


def test_beats_ascend_at_the_stated_tempo_through_the_song() -> None:
    beats = EXAMPLE["beat_timestamps"]
    interval = 60 / EXAMPLE["bpm"]
    gaps = [later - earlier for earlier, later in pairwise(beats)]
    assert all(gap == pytest.approx(interval, abs=0.01) for gap in gaps)
    assert beats[0] < 1.0
    assert EXAMPLE["duration"] - beats[-1] < 8 * interval  # at most a two-bar fade-out
    assert len(beats) == pytest.approx(EXAMPLE["duration"] / interval, rel=0.05)


def _contiguous(spans: list[dict[str, Any]]) -> bool:
    return all(a["end"] == b["start"] for a, b in pairwise(spans))


def test_song_structure_covers_the_song_without_gaps() -> None:
    sections = EXAMPLE["song_structure"]
    assert sections[0]["start"] == 0.0
    assert sections[-1]["end"] == EXAMPLE["duration"]
    assert _contiguous(sections)
    assert {s["type"] for s in sections} >= {"intro", "verse", "chorus", "outro"}


def test_clip_boundaries_cover_the_song_on_beats() -> None:
    clips = EXAMPLE["clip_boundaries"]
    beats = set(EXAMPLE["beat_timestamps"])
    assert clips[0]["start"] == 0.0
    assert clips[-1]["end"] == EXAMPLE["duration"]
    assert _contiguous(clips)
    assert all(c["start"] in beats for c in clips[1:])
    assert all(c["duration"] == pytest.approx(c["end"] - c["start"], abs=0.001) for c in clips)
    assert all(3.0 <= c["duration"] <= 5.0 for c in clips)


def test_lyrics_are_in_song_order_within_their_sections() -> None:
    times = [line["timestamp"] for line in EXAMPLE["lyrics"]]
    assert times == sorted(times)
    assert len(times) >= 30
    sung = [s for s in EXAMPLE["song_structure"] if s["type"] in ("verse", "chorus", "bridge")]
    assert all(any(s["start"] <= t < s["end"] for s in sung) for t in times)
