-- Migration 0002_url_pattern_ascii: written by hand (a narrowed CHECK cannot be generated safely).
-- The Url pattern (schemas/common.schema.json $defs/Url) now spells out printable ASCII instead of
-- using \s, whose meaning differs between ECMA-262, Python, Rust and PostgreSQL regular
-- expressions. Rows holding a URL with a control character or non-ASCII character fail
-- validation here: percent-encode them first.

ALTER TABLE public."jobs"
    DROP CONSTRAINT "jobs_audio_url_check",
    ADD CONSTRAINT "jobs_audio_url_check" CHECK (char_length("audio_url") >= 8 AND char_length("audio_url") <= 2048 AND "audio_url" ~ '^https?://[\x21\x22\x24-\x2e\x30-\x3e\x40-\x7e]+[\x21-\x7e]*$'),
    DROP CONSTRAINT "jobs_video_url_check",
    ADD CONSTRAINT "jobs_video_url_check" CHECK (char_length("video_url") >= 8 AND char_length("video_url") <= 2048 AND "video_url" ~ '^https?://[\x21\x22\x24-\x2e\x30-\x3e\x40-\x7e]+[\x21-\x7e]*$');
