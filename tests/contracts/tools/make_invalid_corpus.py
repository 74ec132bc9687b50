"""Regenerate tests/contracts/invalid_corpus.json from the schema examples (run from the repo root:
``.venv/bin/python tests/contracts/tools/make_invalid_corpus.py``). Each entry is one example with
one mutation, its category (``contracts_support.CATEGORIES``) and the reason it must be rejected.
The tool refuses an entry whose category is not among the errors the JSON Schema validator reports
for it, and a contract that misses one of ``contracts_support.REQUIRED_CATEGORIES`` its schema can
violate (test_invalid_corpus.py asserts both again)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from runtime.contracts import dereferenced_schema

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from contracts_support import (
    CATEGORIES,
    CONTRACTS,
    REQUIRED_CATEGORIES,
    applicable_categories,
    error_categories,
)

MISSING = "missing-required"
ENUM = "wrong-enum"
RANGE = "out-of-range"
TYPE = "wrong-type"
NULL = "null-not-allowed"
UUID = "malformed-uuid"
DATE_TIME = "malformed-date-time"
STRING = "malformed-string"
SIZE = "array-size"
UNKNOWN = "unknown-property"
ONE_OF = "exactly-one-of"

entries = []


#: Long arrays of an example are cut to their first items (the AudioAnalysis example is a whole
#: song): each entry is about its one mutation, and the corpus stays small.
KEEP_ITEMS = 4


def ex(area, name):
    instance = copy.deepcopy(dereferenced_schema(area, name)["examples"][0])
    for key, value in instance.items():
        if isinstance(value, list) and len(value) > 2 * KEEP_ITEMS:
            instance[key] = value[:KEEP_ITEMS]
    return instance


def add(area, name, category, why, mutate):
    assert category in CATEGORIES, category
    inst = ex(area, name)
    mutate(inst)
    entries.append(
        {"area": area, "definition": name, "category": category, "instance": inst, "why": why}
    )


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
add(*J, MISSING, "missing required field user_id", delp(["user_id"]))
add(
    *J,
    MISSING,
    "missing required-but-nullable field video_url (null must be explicit)",
    delp(["video_url"]),
)
add(*J, ENUM, "status not in the enum", setp(["status"], "running"))
add(*J, ENUM, "status enum is case-sensitive", setp(["status"], "Queued"))
add(*J, RANGE, "progress above 100", setp(["progress"], 101))
add(*J, RANGE, "progress below 0", setp(["progress"], -1))
add(*J, TYPE, "progress as a string", setp(["progress"], "62"))
add(*J, TYPE, "progress as a boolean", setp(["progress"], True))
add(*J, TYPE, "progress with a fractional part", setp(["progress"], 62.5))
add(*J, RANGE, "estimated_remaining negative", setp(["estimated_remaining"], -5))
add(
    *J,
    RANGE,
    "estimated_remaining beyond a PostgreSQL integer",
    setp(["estimated_remaining"], 2147483648),
)
add(*J, UUID, "id is not a UUID", setp(["id"], "not-a-uuid"))
add(*J, UUID, "id UUID without dashes", setp(["id"], "550e8400e29b41d4a716446655440000"))
add(*J, UUID, "id UUID in braces", setp(["id"], "{550e8400-e29b-41d4-a716-446655440000}"))
add(
    *J,
    UUID,
    "id UUID with a trailing newline (ECMA $ semantics)",
    setp(["id"], "550e8400-e29b-41d4-a716-446655440000\n"),
)
add(*J, NULL, "user_id null where null is not allowed", setp(["user_id"], None))
add(*J, DATE_TIME, "created_at without a UTC offset", setp(["created_at"], "2025-11-14T10:30:00"))
add(
    *J,
    DATE_TIME,
    "created_at with a space instead of T",
    setp(["created_at"], "2025-11-14 10:30:00Z"),
)
add(*J, DATE_TIME, "created_at on 30 February", setp(["created_at"], "2025-02-30T10:30:00Z"))
add(*J, DATE_TIME, "created_at at hour 24", setp(["created_at"], "2025-11-14T24:00:00Z"))
add(
    *J,
    DATE_TIME,
    "created_at with a leap second (not representable in Python or Go)",
    setp(["created_at"], "2016-12-31T23:59:60Z"),
)
add(*J, TYPE, "created_at as a Unix timestamp number", setp(["created_at"], 1763116200))
add(*J, DATE_TIME, "created_at date only", setp(["created_at"], "2025-11-14"))
add(*J, NULL, "updated_at null where null is not allowed", setp(["updated_at"], None))
add(*J, TYPE, "total_cost as a JSON number (money must be a string)", setp(["total_cost"], 3.42))
add(*J, TYPE, "total_cost as a JSON integer", setp(["total_cost"], 3))
add(*J, STRING, "total_cost with 7 decimals", setp(["total_cost"], "3.4200001"))
add(*J, STRING, "total_cost negative", setp(["total_cost"], "-1.00"))
add(*J, STRING, "total_cost in exponent notation", setp(["total_cost"], "1e3"))
add(*J, STRING, "total_cost with a leading zero", setp(["total_cost"], "03.42"))
add(*J, STRING, "total_cost with 13 integer digits", setp(["total_cost"], "1234567890123.00"))
add(*J, STRING, "total_cost with a trailing dot", setp(["total_cost"], "3."))
add(*J, STRING, "total_cost without an integer part", setp(["total_cost"], ".42"))
add(
    *J,
    STRING,
    "total_cost with a trailing newline (ECMA $ semantics)",
    setp(["total_cost"], "3.42\n"),
)
add(*J, STRING, "total_cost with surrounding spaces", setp(["total_cost"], " 3.42"))
add(*J, STRING, "total_cost NaN string", setp(["total_cost"], "NaN"))
add(*J, NULL, "total_cost null where null is not allowed", setp(["total_cost"], None))
add(*J, UNKNOWN, "unknown extra property", setp(["priority"], "high"))
add(*J, STRING, "audio_url not http(s)", setp(["audio_url"], "ftp://example.com/song.mp3"))
add(*J, STRING, "audio_url with a space", setp(["audio_url"], "https://example.com/my song.mp3"))
add(
    *J,
    STRING,
    "audio_url with a control character U+001C",
    setp(["audio_url"], "https://example.com/a\u001cb.mp3"),
)
add(
    *J,
    STRING,
    "audio_url with non-ASCII (must be percent-encoded)",
    setp(["audio_url"], "https://example.com/ch\u00e9ri.mp3"),
)
add(
    *J,
    STRING,
    "audio_url with a byte-order mark",
    setp(["audio_url"], "https://example.com/\ufeffa.mp3"),
)
add(*J, STRING, "audio_url relative", setp(["audio_url"], "/storage/v1/object/song.mp3"))
add(*J, STRING, "user_prompt empty", setp(["user_prompt"], ""))
add(*J, STRING, "user_prompt longer than 2000 characters", setp(["user_prompt"], "x" * 2001))
add(*J, STRING, "current_stage not snake_case", setp(["current_stage"], "Video-Generation"))
add(
    *J,
    STRING,
    "current_stage with a trailing newline (ECMA $ semantics)",
    setp(["current_stage"], "video_generation\n"),
)
add(*J, STRING, "error_message empty string (null means no error)", setp(["error_message"], ""))
add(*J, TYPE, "the instance is an array", lambda i: None)
entries[-1]["instance"] = [ex(*J)]

S = ("job", "JobStage")
add(*S, MISSING, "missing required field stage_name", delp(["stage_name"]))
add(*S, ENUM, "status not in the enum", setp(["status"], "skipped"))
add(*S, RANGE, "duration_seconds negative", setp(["duration_seconds"], -1))
add(*S, TYPE, "duration_seconds fractional", setp(["duration_seconds"], 47.5))
add(*S, TYPE, "cost as a JSON number", setp(["cost"], 0.012))
add(*S, TYPE, "metadata as a string", setp(["metadata"], "cache_hit=false"))
add(*S, TYPE, "metadata as an array", setp(["metadata"], [1, 2]))
add(*S, DATE_TIME, "started_at malformed", setp(["started_at"], "yesterday"))
add(*S, NULL, "job_id null where null is not allowed", setp(["job_id"], None))
add(*S, UNKNOWN, "unknown extra property", setp(["attempt"], 2))

add(*S, UUID, "job_id malformed", setp(["job_id"], "550e8400-e29b-41d4-a716-44665544"))
add(*S, UUID, "id with a trailing newline", setp(["id"], "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a\n"))

C = ("job", "JobCost")
add(*C, MISSING, "missing required field cost", delp(["cost"]))
add(*C, STRING, "cost with 7 decimals", setp(["cost"], "0.0600001"))
add(*C, TYPE, "cost as a JSON number", setp(["cost"], 0.06))
add(*C, STRING, "api_name empty", setp(["api_name"], ""))
add(*C, STRING, "api_name longer than 100 characters", setp(["api_name"], "a" * 101))
add(*C, STRING, "idempotency_key empty (null means none)", setp(["idempotency_key"], ""))
add(
    *C,
    DATE_TIME,
    "timestamp with an offset beyond 23:59",
    setp(["timestamp"], "2025-11-14T10:33:41+24:00"),
)
add(*C, UUID, "job_id malformed", setp(["job_id"], "550e8400-e29b-41d4-a716-44665544000g"))
add(*C, UNKNOWN, "unknown extra property", setp(["currency"], "USD"))

add(*C, NULL, "api_name null where null is not allowed", setp(["api_name"], None))
add(*C, NULL, "timestamp null where null is not allowed", setp(["timestamp"], None))
add(*C, TYPE, "api_name as a number", setp(["api_name"], 42))

R = ("job", "CostReservation")
add(*R, TYPE, "amount as a JSON number", setp(["amount"], 0.06))
add(*R, TYPE, "status as an array", setp(["status"], ["held"]))
add(*R, UUID, "job_id malformed", setp(["job_id"], "not-a-uuid"))
add(*R, UUID, "id UUID in URN form", setp(["id"], "urn:uuid:7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"))
add(*R, MISSING, "missing required field api_name", delp(["api_name"]))
add(*R, ENUM, "status not in the enum", setp(["status"], "pending"))
add(*R, STRING, "amount negative", setp(["amount"], "-0.06"))
add(*R, NULL, "amount null where null is not allowed", setp(["amount"], None))
add(*R, STRING, "actual_cost with 7 decimals", setp(["actual_cost"], "0.0580001"))
add(*R, DATE_TIME, "settled_at malformed", setp(["settled_at"], "2025-11-14T10:35"))
add(*R, MISSING, "missing required-but-nullable field settled_at", delp(["settled_at"]))
add(*R, UNKNOWN, "unknown extra property", setp(["note"], "x"))

A = ("audio", "AudioAnalysis")
add(*A, MISSING, "missing required field mood", delp(["mood"]))
add(*A, RANGE, "bpm zero (exclusive minimum)", setp(["bpm"], 0))
add(*A, RANGE, "bpm above 400", setp(["bpm"], 400.5))
add(*A, TYPE, "bpm as a string", setp(["bpm"], "124"))
add(*A, TYPE, "bpm as a boolean", setp(["bpm"], True))
add(*A, RANGE, "duration negative", setp(["duration"], -12.5))
add(*A, RANGE, "beat timestamp negative", setp(["beat_timestamps", 0], -0.48))
add(*A, TYPE, "beat timestamps not an array", setp(["beat_timestamps"], "0.48,0.96"))
add(*A, NULL, "beat timestamp null", setp(["beat_timestamps", 1], None))
add(
    *A, ENUM, "song section type not in the enum", setp(["song_structure", 0, "type"], "pre-chorus")
)
add(
    *A,
    ENUM,
    "song section energy not in the enum",
    setp(["song_structure", 0, "energy"], "extreme"),
)
add(*A, MISSING, "song section missing end", delp(["song_structure", 1, "end"]))
add(*A, STRING, "lyric text empty", setp(["lyrics", 0, "text"], ""))
add(*A, MISSING, "lyric timestamp missing", delp(["lyrics", 1, "timestamp"]))
add(*A, RANGE, "mood confidence above 1", setp(["mood", "confidence"], 1.01))
add(*A, RANGE, "mood confidence below 0", setp(["mood", "confidence"], -0.1))
add(*A, ENUM, "mood energy level not in the enum", setp(["mood", "energy_level"], "very high"))
add(
    *A,
    UNKNOWN,
    "mood with an unknown extra property (nested objects are closed too)",
    setp(["mood", "tertiary"], "calm"),
)
add(*A, RANGE, "clip boundary duration negative", setp(["clip_boundaries", 0, "duration"], -4.35))
add(*A, NULL, "metadata null where null is not allowed", setp(["metadata"], None))
add(*A, UUID, "job_id malformed", setp(["job_id"], "550e8400"))
add(*A, UNKNOWN, "unknown extra property", setp(["key"], "C minor"))

P = ("scene", "ScenePlan")
add(*P, STRING, "palette colour without #", setp(["style", "color_palette", 0], "FF2E88"))
add(*P, STRING, "palette colour in short #RGB form", setp(["style", "color_palette", 0], "#F28"))
add(
    *P, STRING, "palette colour with non-hex digits", setp(["style", "color_palette", 0], "#GG2E88")
)
add(*P, STRING, "palette colour by name", setp(["style", "color_palette", 0], "red"))
add(*P, STRING, "palette colour with alpha", setp(["style", "color_palette", 0], "#FF2E88CC"))
add(*P, SIZE, "palette empty (at least one colour)", setp(["style", "color_palette"], []))
add(
    *P,
    SIZE,
    "palette with 17 colours (at most 16)",
    setp(["style", "color_palette"], ["#000000"] * 17),
)
add(*P, STRING, "character id with a space", setp(["characters", 0, "id"], "char 1"))
add(*P, STRING, "character id starting with an underscore", setp(["characters", 0, "id"], "_char"))
add(*P, MISSING, "character missing role", delp(["characters", 0, "role"]))
add(
    *P,
    ENUM,
    "clip script beat_intensity not in the enum",
    setp(["clip_scripts", 0, "beat_intensity"], "max"),
)
add(*P, RANGE, "clip script clip_index above 9999", setp(["clip_scripts", 0, "clip_index"], 10000))
add(*P, RANGE, "clip script start negative", setp(["clip_scripts", 0, "start"], -1.0))
add(*P, ENUM, "transition type not in the enum", setp(["transitions", 0, "type"], "wipe"))
add(*P, RANGE, "transition duration negative", setp(["transitions", 0, "duration"], -0.5))
add(*P, NULL, "style null where null is not allowed", setp(["style"], None))
add(*P, UNKNOWN, "scene with an unknown extra property", setp(["scenes", 0, "weather"], "rain"))

add(*P, TYPE, "characters as an object", setp(["characters"], {"char_1": "x"}))
add(*P, TYPE, "clip script start as a string", setp(["clip_scripts", 0, "start"], "0.0"))
add(*P, UUID, "job_id malformed", setp(["job_id"], "job-550e8400"))
add(*P, MISSING, "missing required field transitions", delp(["transitions"]))

RI = ("scene", "ReferenceImages")
add(*RI, NULL, "metadata null where null is not allowed", setp(["metadata"], None))
add(*RI, NULL, "reference prompt_used null", setp(["scene_references", 0, "prompt_used"], None))
add(*RI, UUID, "job_id malformed", setp(["job_id"], "550e8400-e29b-41d4-a716-4466554400000"))
add(*RI, MISSING, "missing required field total_cost", delp(["total_cost"]))
add(*RI, TYPE, "scene_references as an object", setp(["scene_references"], {}))
add(*RI, ENUM, "status not in the enum", setp(["status"], "done"))
add(*RI, TYPE, "total_cost as a JSON number", setp(["total_cost"], 0.011))
add(*RI, RANGE, "total_references negative", setp(["total_references"], -2))
add(
    *RI,
    STRING,
    "reference cost with 7 decimals",
    setp(["scene_references", 0, "cost"], "0.0055001"),
)
add(
    *RI,
    STRING,
    "reference image_url not a URL",
    setp(["scene_references", 0, "image_url"], "scene_1.png"),
)
add(
    *RI,
    STRING,
    "reference scene_id malformed",
    setp(["scene_references", 0, "scene_id"], "scene 1"),
)
add(
    *RI,
    MISSING,
    "reference missing character_id (null must be explicit)",
    delp(["scene_references", 0, "character_id"]),
)
add(
    *RI,
    ONE_OF,
    "reference with both scene_id and character_id set (exactly one is)",
    setp(["scene_references", 0, "character_id"], "char_1"),
)
add(
    *RI,
    ONE_OF,
    "reference with both scene_id and character_id null (exactly one is set)",
    setp(["character_references", 0, "character_id"], None),
)

PR = ("video", "ClipPrompts")
add(*PR, STRING, "clip prompt empty", setp(["clip_prompts", 0, "prompt"], ""))
add(
    *PR,
    NULL,
    "negative_prompt null where null is not allowed",
    setp(["clip_prompts", 0, "negative_prompt"], None),
)
add(*PR, RANGE, "clip_index negative", setp(["clip_prompts", 0, "clip_index"], -1))
add(
    *PR,
    STRING,
    "character reference URL malformed",
    setp(["clip_prompts", 0, "character_reference_urls"], ["not a url"]),
)
add(*PR, TYPE, "total_clips as a string", setp(["total_clips"], "1"))
add(*PR, RANGE, "generation_time negative", setp(["generation_time"], -3.2))

add(*PR, MISSING, "missing required field total_clips", delp(["total_clips"]))
add(*PR, MISSING, "clip prompt missing duration", delp(["clip_prompts", 0, "duration"]))
add(*PR, UUID, "job_id malformed", setp(["job_id"], "550e8400-e29b-41d4-a716"))
add(*PR, TYPE, "clip_prompts as an object", setp(["clip_prompts"], {"0": "x"}))

CL = ("video", "Clips")
add(*CL, MISSING, "missing required field failed_clips", delp(["failed_clips"]))
add(*CL, MISSING, "clip missing status", delp(["clips", 0, "status"]))
add(
    *CL,
    NULL,
    "clip video_url null where null is not allowed",
    setp(["clips", 0, "video_url"], None),
)
add(*CL, NULL, "total_cost null where null is not allowed", setp(["total_cost"], None))
add(
    *CL,
    UUID,
    "job_id with a non-hex digit",
    setp(["job_id"], "550e8400-e29b-41d4-a716-44665544000z"),
)
add(*CL, RANGE, "successful_clips negative", setp(["successful_clips"], -1))
add(*CL, ENUM, "clip status not in the Clip enum", setp(["clips", 0, "status"], "partial"))
add(*CL, RANGE, "retry_count negative", setp(["clips", 0, "retry_count"], -1))
add(*CL, TYPE, "retry_count fractional", setp(["clips", 0, "retry_count"], 1.5))
add(*CL, TYPE, "clip cost as a JSON number", setp(["clips", 0, "cost"], 0.06))
add(*CL, TYPE, "duration_diff as a string", setp(["clips", 0, "duration_diff"], "-0.35"))
add(*CL, STRING, "total_cost with 7 decimals", setp(["total_cost"], "0.1800001"))
add(*CL, UNKNOWN, "clip with an unknown extra property", setp(["clips", 0, "seed"], 42))

V = ("video", "VideoOutput")
add(*V, UUID, "job_id malformed", setp(["job_id"], "550E8400-E29B-41D4-A716"))
add(*V, ENUM, "status not in the enum", setp(["status"], "partial"))
add(*V, RANGE, "file_size_mb negative", setp(["file_size_mb"], -1.0))
add(*V, TYPE, "sync_drift as a string", setp(["sync_drift"], "0.02"))
add(*V, NULL, "sync_drift null where null is not allowed", setp(["sync_drift"], None))
add(*V, TYPE, "cost as a JSON number", setp(["cost"], 0))
add(*V, RANGE, "clips_used beyond a PostgreSQL integer", setp(["clips_used"], 2147483648))
add(*V, MISSING, "missing required field video_url", delp(["video_url"]))
add(*V, UNKNOWN, "unknown extra property", setp(["codec"], "h264"))

for entry in entries:
    found = error_categories(entry["area"], entry["definition"], entry["instance"])
    if entry["category"] not in found:
        raise SystemExit(
            f"{entry['definition']}: {entry['why']}: {entry['category']} not in {found}"
        )
for area, definition in CONTRACTS:
    covered = {e["category"] for e in entries if e["definition"] == definition}
    missing = set(REQUIRED_CATEGORIES) & applicable_categories(area, definition) - covered
    if missing:
        raise SystemExit(f"{definition}: no corpus entry for {sorted(missing)}")

print(len(entries))
with open(
    Path(__file__).resolve().parent.parent / "invalid_corpus.json", "w", encoding="utf-8"
) as f:
    f.write("[\n" + ",\n".join(json.dumps(e, ensure_ascii=True) for e in entries) + "\n]\n")
