"""Regenerate tests/contracts/invalid_corpus.json from the schema examples (run from the repo root:
``.venv/bin/python tests/contracts/tools/make_invalid_corpus.py``). Each entry is one example with
one mutation and the reason it must be rejected."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from runtime.contracts import dereferenced_schema

entries = []


def ex(area, name):
    return copy.deepcopy(dereferenced_schema(area, name)["examples"][0])


def add(area, name, why, mutate):
    inst = ex(area, name)
    mutate(inst)
    entries.append({"area": area, "definition": name, "instance": inst, "why": why})


def setp(path, value):
    def m(inst):
        node = inst
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    return m


def delp(path):
    def m(inst):
        node = inst
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]

    return m


J = ("job", "Job")
add(*J, "missing required field user_id", delp(["user_id"]))
add(
    *J, "missing required-but-nullable field video_url (null must be explicit)", delp(["video_url"])
)
add(*J, "status not in the enum", setp(["status"], "running"))
add(*J, "status enum is case-sensitive", setp(["status"], "Queued"))
add(*J, "progress above 100", setp(["progress"], 101))
add(*J, "progress below 0", setp(["progress"], -1))
add(*J, "progress as a string", setp(["progress"], "62"))
add(*J, "progress as a boolean", setp(["progress"], True))
add(*J, "progress with a fractional part", setp(["progress"], 62.5))
add(*J, "estimated_remaining negative", setp(["estimated_remaining"], -5))
add(
    *J, "estimated_remaining beyond a PostgreSQL integer", setp(["estimated_remaining"], 2147483648)
)
add(*J, "id is not a UUID", setp(["id"], "not-a-uuid"))
add(*J, "id UUID without dashes", setp(["id"], "550e8400e29b41d4a716446655440000"))
add(*J, "id UUID in braces", setp(["id"], "{550e8400-e29b-41d4-a716-446655440000}"))
add(
    *J,
    "id UUID with a trailing newline (ECMA $ semantics)",
    setp(["id"], "550e8400-e29b-41d4-a716-446655440000\n"),
)
add(*J, "user_id null where null is not allowed", setp(["user_id"], None))
add(*J, "created_at without a UTC offset", setp(["created_at"], "2025-11-14T10:30:00"))
add(*J, "created_at with a space instead of T", setp(["created_at"], "2025-11-14 10:30:00Z"))
add(*J, "created_at on 30 February", setp(["created_at"], "2025-02-30T10:30:00Z"))
add(*J, "created_at at hour 24", setp(["created_at"], "2025-11-14T24:00:00Z"))
add(
    *J,
    "created_at with a leap second (not representable in Python or Go)",
    setp(["created_at"], "2016-12-31T23:59:60Z"),
)
add(*J, "created_at as a Unix timestamp number", setp(["created_at"], 1763116200))
add(*J, "created_at date only", setp(["created_at"], "2025-11-14"))
add(*J, "updated_at null where null is not allowed", setp(["updated_at"], None))
add(*J, "total_cost as a JSON number (money must be a string)", setp(["total_cost"], 3.42))
add(*J, "total_cost as a JSON integer", setp(["total_cost"], 3))
add(*J, "total_cost with 7 decimals", setp(["total_cost"], "3.4200001"))
add(*J, "total_cost negative", setp(["total_cost"], "-1.00"))
add(*J, "total_cost in exponent notation", setp(["total_cost"], "1e3"))
add(*J, "total_cost with a leading zero", setp(["total_cost"], "03.42"))
add(*J, "total_cost with 13 integer digits", setp(["total_cost"], "1234567890123.00"))
add(*J, "total_cost with a trailing dot", setp(["total_cost"], "3."))
add(*J, "total_cost without an integer part", setp(["total_cost"], ".42"))
add(*J, "total_cost with a trailing newline (ECMA $ semantics)", setp(["total_cost"], "3.42\n"))
add(*J, "total_cost with surrounding spaces", setp(["total_cost"], " 3.42"))
add(*J, "total_cost NaN string", setp(["total_cost"], "NaN"))
add(*J, "total_cost null where null is not allowed", setp(["total_cost"], None))
add(*J, "unknown extra property", setp(["priority"], "high"))
add(*J, "audio_url not http(s)", setp(["audio_url"], "ftp://example.com/song.mp3"))
add(*J, "audio_url with a space", setp(["audio_url"], "https://example.com/my song.mp3"))
add(
    *J,
    "audio_url with a control character U+001C",
    setp(["audio_url"], "https://example.com/a\u001cb.mp3"),
)
add(
    *J,
    "audio_url with non-ASCII (must be percent-encoded)",
    setp(["audio_url"], "https://example.com/ch\u00e9ri.mp3"),
)
add(*J, "audio_url with a byte-order mark", setp(["audio_url"], "https://example.com/\ufeffa.mp3"))
add(*J, "audio_url relative", setp(["audio_url"], "/storage/v1/object/song.mp3"))
add(*J, "user_prompt empty", setp(["user_prompt"], ""))
add(*J, "user_prompt longer than 2000 characters", setp(["user_prompt"], "x" * 2001))
add(*J, "current_stage not snake_case", setp(["current_stage"], "Video-Generation"))
add(
    *J,
    "current_stage with a trailing newline (ECMA $ semantics)",
    setp(["current_stage"], "video_generation\n"),
)
add(*J, "error_message empty string (null means no error)", setp(["error_message"], ""))
add(*J, "the instance is an array", lambda i: None)
entries[-1]["instance"] = [ex(*J)]

S = ("job", "JobStage")
add(*S, "missing required field stage_name", delp(["stage_name"]))
add(*S, "status not in the enum", setp(["status"], "skipped"))
add(*S, "duration_seconds negative", setp(["duration_seconds"], -1))
add(*S, "duration_seconds fractional", setp(["duration_seconds"], 47.5))
add(*S, "cost as a JSON number", setp(["cost"], 0.012))
add(*S, "metadata as a string", setp(["metadata"], "cache_hit=false"))
add(*S, "metadata as an array", setp(["metadata"], [1, 2]))
add(*S, "started_at malformed", setp(["started_at"], "yesterday"))
add(*S, "job_id null where null is not allowed", setp(["job_id"], None))
add(*S, "unknown extra property", setp(["attempt"], 2))

C = ("job", "JobCost")
add(*C, "missing required field cost", delp(["cost"]))
add(*C, "cost with 7 decimals", setp(["cost"], "0.0600001"))
add(*C, "cost as a JSON number", setp(["cost"], 0.06))
add(*C, "api_name empty", setp(["api_name"], ""))
add(*C, "api_name longer than 100 characters", setp(["api_name"], "a" * 101))
add(*C, "idempotency_key empty (null means none)", setp(["idempotency_key"], ""))
add(*C, "timestamp with an offset beyond 23:59", setp(["timestamp"], "2025-11-14T10:33:41+24:00"))
add(*C, "job_id malformed", setp(["job_id"], "550e8400-e29b-41d4-a716-44665544000g"))
add(*C, "unknown extra property", setp(["currency"], "USD"))

R = ("job", "CostReservation")
add(*R, "status not in the enum", setp(["status"], "pending"))
add(*R, "amount negative", setp(["amount"], "-0.06"))
add(*R, "amount null where null is not allowed", setp(["amount"], None))
add(*R, "actual_cost with 7 decimals", setp(["actual_cost"], "0.0580001"))
add(*R, "settled_at malformed", setp(["settled_at"], "2025-11-14T10:35"))
add(*R, "missing required-but-nullable field settled_at", delp(["settled_at"]))
add(*R, "unknown extra property", setp(["note"], "x"))

A = ("audio", "AudioAnalysis")
add(*A, "missing required field mood", delp(["mood"]))
add(*A, "bpm zero (exclusive minimum)", setp(["bpm"], 0))
add(*A, "bpm above 400", setp(["bpm"], 400.5))
add(*A, "bpm as a string", setp(["bpm"], "124"))
add(*A, "bpm as a boolean", setp(["bpm"], True))
add(*A, "duration negative", setp(["duration"], -12.5))
add(*A, "beat timestamp negative", setp(["beat_timestamps", 0], -0.48))
add(*A, "beat timestamps not an array", setp(["beat_timestamps"], "0.48,0.96"))
add(*A, "beat timestamp null", setp(["beat_timestamps", 1], None))
add(*A, "song section type not in the enum", setp(["song_structure", 0, "type"], "pre-chorus"))
add(*A, "song section energy not in the enum", setp(["song_structure", 0, "energy"], "extreme"))
add(*A, "song section missing end", delp(["song_structure", 1, "end"]))
add(*A, "lyric text empty", setp(["lyrics", 0, "text"], ""))
add(*A, "lyric timestamp missing", delp(["lyrics", 1, "timestamp"]))
add(*A, "mood confidence above 1", setp(["mood", "confidence"], 1.01))
add(*A, "mood confidence below 0", setp(["mood", "confidence"], -0.1))
add(*A, "mood energy level not in the enum", setp(["mood", "energy_level"], "very high"))
add(
    *A,
    "mood with an unknown extra property (nested objects are closed too)",
    setp(["mood", "tertiary"], "calm"),
)
add(*A, "clip boundary duration negative", setp(["clip_boundaries", 0, "duration"], -4.35))
add(*A, "metadata null where null is not allowed", setp(["metadata"], None))
add(*A, "job_id malformed", setp(["job_id"], "550e8400"))
add(*A, "unknown extra property", setp(["key"], "C minor"))

P = ("scene", "ScenePlan")
add(*P, "palette colour without #", setp(["style", "color_palette", 0], "FF2E88"))
add(*P, "palette colour in short #RGB form", setp(["style", "color_palette", 0], "#F28"))
add(*P, "palette colour with non-hex digits", setp(["style", "color_palette", 0], "#GG2E88"))
add(*P, "palette colour by name", setp(["style", "color_palette", 0], "red"))
add(*P, "palette colour with alpha", setp(["style", "color_palette", 0], "#FF2E88CC"))
add(*P, "palette empty (at least one colour)", setp(["style", "color_palette"], []))
add(*P, "palette with 17 colours (at most 16)", setp(["style", "color_palette"], ["#000000"] * 17))
add(*P, "character id with a space", setp(["characters", 0, "id"], "char 1"))
add(*P, "character id starting with an underscore", setp(["characters", 0, "id"], "_char"))
add(*P, "character missing role", delp(["characters", 0, "role"]))
add(
    *P,
    "clip script beat_intensity not in the enum",
    setp(["clip_scripts", 0, "beat_intensity"], "max"),
)
add(*P, "clip script clip_index above 9999", setp(["clip_scripts", 0, "clip_index"], 10000))
add(*P, "clip script start negative", setp(["clip_scripts", 0, "start"], -1.0))
add(*P, "transition type not in the enum", setp(["transitions", 0, "type"], "wipe"))
add(*P, "transition duration negative", setp(["transitions", 0, "duration"], -0.5))
add(*P, "style null where null is not allowed", setp(["style"], None))
add(*P, "scene with an unknown extra property", setp(["scenes", 0, "weather"], "rain"))

RI = ("scene", "ReferenceImages")
add(*RI, "status not in the enum", setp(["status"], "done"))
add(*RI, "total_cost as a JSON number", setp(["total_cost"], 0.011))
add(*RI, "total_references negative", setp(["total_references"], -2))
add(*RI, "reference cost with 7 decimals", setp(["scene_references", 0, "cost"], "0.0055001"))
add(*RI, "reference image_url not a URL", setp(["scene_references", 0, "image_url"], "scene_1.png"))
add(*RI, "reference scene_id malformed", setp(["scene_references", 0, "scene_id"], "scene 1"))
add(
    *RI,
    "reference missing character_id (null must be explicit)",
    delp(["scene_references", 0, "character_id"]),
)
add(
    *RI,
    "reference with both scene_id and character_id set (exactly one is)",
    setp(["scene_references", 0, "character_id"], "char_1"),
)
add(
    *RI,
    "reference with both scene_id and character_id null (exactly one is set)",
    setp(["character_references", 0, "character_id"], None),
)

PR = ("video", "ClipPrompts")
add(*PR, "clip prompt empty", setp(["clip_prompts", 0, "prompt"], ""))
add(
    *PR,
    "negative_prompt null where null is not allowed",
    setp(["clip_prompts", 0, "negative_prompt"], None),
)
add(*PR, "clip_index negative", setp(["clip_prompts", 0, "clip_index"], -1))
add(
    *PR,
    "character reference URL malformed",
    setp(["clip_prompts", 0, "character_reference_urls"], ["not a url"]),
)
add(*PR, "total_clips as a string", setp(["total_clips"], "1"))
add(*PR, "generation_time negative", setp(["generation_time"], -3.2))

CL = ("video", "Clips")
add(*CL, "clip status not in the Clip enum", setp(["clips", 0, "status"], "partial"))
add(*CL, "retry_count negative", setp(["clips", 0, "retry_count"], -1))
add(*CL, "retry_count fractional", setp(["clips", 0, "retry_count"], 1.5))
add(*CL, "clip cost as a JSON number", setp(["clips", 0, "cost"], 0.06))
add(*CL, "duration_diff as a string", setp(["clips", 0, "duration_diff"], "-0.35"))
add(*CL, "total_cost with 7 decimals", setp(["total_cost"], "0.1800001"))
add(*CL, "clip with an unknown extra property", setp(["clips", 0, "seed"], 42))

V = ("video", "VideoOutput")
add(*V, "status not in the enum", setp(["status"], "partial"))
add(*V, "file_size_mb negative", setp(["file_size_mb"], -1.0))
add(*V, "sync_drift as a string", setp(["sync_drift"], "0.02"))
add(*V, "sync_drift null where null is not allowed", setp(["sync_drift"], None))
add(*V, "cost as a JSON number", setp(["cost"], 0))
add(*V, "clips_used beyond a PostgreSQL integer", setp(["clips_used"], 2147483648))
add(*V, "missing required field video_url", delp(["video_url"]))
add(*V, "unknown extra property", setp(["codec"], "h264"))

print(len(entries))
with open(
    Path(__file__).resolve().parent.parent / "invalid_corpus.json", "w", encoding="utf-8"
) as f:
    f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=True) for e in entries) + "\n]\n")
