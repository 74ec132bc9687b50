"""Throughput of the generated models against jsonschema and json.loads on a large AudioAnalysis.

The document is a realistic 5-minute song: 600 beat timestamps at 120 BPM, 150 lyric lines,
60 clip boundaries on the beat grid and a full song structure (intro, verses, choruses, bridge,
outro). Three ways to take the same bytes:

* ``AudioAnalysis.model_validate_json(raw)``: parse and validate into the generated model;
* ``validator.validate(json.loads(raw))``: jsonschema Draft 2020-12 with format checking, built
  from the shipped schemas (``runtime.contracts.validator_for``);
* ``json.loads(raw)``: parsing only, no validation.

Run with ``nox -s bench -- models`` (against the installed wheel) or directly with Python.
Prints one line per figure; nothing is asserted.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from generated import AudioAnalysis
from runtime.contracts import validator_for

SONG_SECONDS = 300.0
BPM = 120.0


def build_analysis(seed: int = 7) -> dict[str, Any]:
    """A realistic AudioAnalysis of a 5-minute song, as the audio stage would emit it."""
    rng = random.Random(seed)
    beat = 60.0 / BPM
    beats = [round(0.12 + i * beat + rng.uniform(-0.004, 0.004), 3) for i in range(600)]
    sections = [
        ("intro", 0.0, 16.0, "low"),
        ("verse", 16.0, 48.0, "medium"),
        ("chorus", 48.0, 80.0, "high"),
        ("verse", 80.0, 112.0, "medium"),
        ("chorus", 112.0, 144.0, "high"),
        ("bridge", 144.0, 176.0, "medium"),
        ("verse", 176.0, 208.0, "medium"),
        ("chorus", 208.0, 256.0, "high"),
        ("chorus", 256.0, 284.0, "high"),
        ("outro", 284.0, SONG_SECONDS, "low"),
    ]
    words = [
        "city",
        "lights",
        "are",
        "calling",
        "out",
        "my",
        "name",
        "dancing",
        "through",
        "the",
        "rain",
        "again",
        "neon",
        "heartbeat",
        "running",
        "down",
        "the",
        "avenue",
        "tonight",
        "we",
        "never",
        "sleep",
        "under",
        "electric",
        "skies",
    ]
    lyrics = [
        {
            "text": " ".join(rng.choice(words) for _ in range(rng.randint(4, 10))).capitalize(),
            "timestamp": round(16.0 + i * (268.0 / 150) + rng.uniform(0, 0.3), 3),
        }
        for i in range(150)
    ]
    boundaries = []
    start = 0.0
    for i in range(60):
        end = SONG_SECONDS if i == 59 else round(beats[(i + 1) * 10 - 1], 3)
        boundaries.append({"start": start, "end": end, "duration": round(end - start, 3)})
        start = end
    return {
        "job_id": "550e8400-e29b-41d4-a716-446655440000",
        "bpm": BPM,
        "duration": SONG_SECONDS,
        "beat_timestamps": beats,
        "song_structure": [
            {"type": t, "start": s, "end": e, "energy": energy} for t, s, e, energy in sections
        ],
        "lyrics": lyrics,
        "mood": {
            "primary": "energetic",
            "secondary": "melancholic",
            "energy_level": "high",
            "confidence": 0.87,
        },
        "clip_boundaries": boundaries,
        "metadata": {
            "processing_time": 41.7,
            "cache_hit": False,
            "beat_confidence": 0.93,
            "whisper_model": "whisper-1",
            "sample_rate": 44100,
        },
    }


def per_call(fn: Callable[[], Any], *, seconds: float = 1.0, rounds: int = 5) -> float:
    """Median seconds per call over ``rounds`` rounds of roughly ``seconds`` each."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    repeat = max(1, int(seconds / once))
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        timings.append((time.perf_counter() - start) / repeat)
    return statistics.median(timings)


def main() -> None:
    document = build_analysis()
    raw = json.dumps(document).encode()
    validator = validator_for("audio", "AudioAnalysis")
    validator.validate(document)
    model = AudioAnalysis.model_validate_json(raw)
    assert len(model.beat_timestamps) == 600
    assert len(model.lyrics) == 150
    assert len(model.clip_boundaries) == 60

    pydantic_s = per_call(lambda: AudioAnalysis.model_validate_json(raw))
    jsonschema_s = per_call(lambda: validator.validate(json.loads(raw)))
    loads_s = per_call(lambda: json.loads(raw))
    dump_s = per_call(lambda: model.model_dump_json())

    size_kib = len(raw) / 1024
    print(f"AudioAnalysis document: {size_kib:.1f} KiB, 600 beats, 150 lyrics, 60 clips")
    for label, seconds in (
        ("AudioAnalysis.model_validate_json", pydantic_s),
        ("jsonschema validate(json.loads)", jsonschema_s),
        ("json.loads only", loads_s),
        ("AudioAnalysis.model_dump_json", dump_s),
    ):
        print(
            f"{label:36s} {seconds * 1e3:9.3f} ms/doc {1 / seconds:10.0f} docs/s "
            f"{size_kib / 1024 / seconds:8.1f} MiB/s"
        )
    print(f"model_validate_json vs jsonschema:   {jsonschema_s / pydantic_s:6.1f}x faster")
    print(f"model_validate_json vs json.loads:   {pydantic_s / loads_s:6.2f}x the time of parsing")


if __name__ == "__main__":
    main()
