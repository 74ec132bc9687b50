"""Structured logging: JSON lines, context, redaction, levels, console and rotating file output."""

from __future__ import annotations

import ast
import asyncio
import enum
import importlib
import json
import logging
import re
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

import runtime
from runtime.config import Settings, override_settings
from runtime.logging import (
    BASE_LOGGER_NAME,
    REDACTED,
    configure_logging,
    current_log_context,
    get_logger,
    log_context,
    redact,
    register_secret,
)
from runtime.logging import _reset_for_tests as reset_logging
from runtime.testing import capture_logs

JOB_ID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """Start without our handlers and remove whatever the test configured."""
    reset_logging()
    yield
    reset_logging()


def _videogen_handlers() -> list[logging.Handler]:
    base = logging.getLogger(BASE_LOGGER_NAME)
    return [h for h in base.handlers if getattr(h, "_videogen_handler", False)]


def _read_json_lines(*paths: Path) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            records.append(json.loads(line))
    return records


# ---------------------------------------------------------------------------------------------
# Line format
# ---------------------------------------------------------------------------------------------


def test_record_is_one_json_object_with_the_prd_fields() -> None:
    with capture_logs() as logs:
        get_logger("audio_parser").info(
            "Processing audio", extra={"job_id": str(JOB_ID), "duration": 180}
        )
    (line,) = logs.lines
    assert "\n" not in line
    record = json.loads(line)
    assert list(record)[:6] == ["timestamp", "level", "module", "job_id", "stage", "message"]
    assert TIMESTAMP.match(record["timestamp"])
    assert record["level"] == "INFO"
    assert record["module"] == "audio_parser"
    assert record["job_id"] == str(JOB_ID)
    assert record["message"] == "Processing audio"
    assert record["duration"] == 180


def test_timestamp_is_utc_now() -> None:
    with capture_logs() as logs:
        get_logger("t").warning("now")
    logged = datetime.strptime(logs.records[0]["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    delta = datetime.now(UTC).replace(tzinfo=None) - logged
    assert abs(delta.total_seconds()) < 60


def test_percent_arguments_are_interpolated() -> None:
    with capture_logs() as logs:
        get_logger("t").info("scene %d of %d", 3, 12)
    assert logs.messages == ["scene 3 of 12"]


def test_job_id_and_stage_are_null_outside_any_context() -> None:
    with capture_logs() as logs:
        get_logger("t").info("plain")
    assert (logs.records[0]["job_id"], logs.records[0]["stage"]) == (None, None)


def test_non_json_values_are_rendered_safely() -> None:
    class Colour(enum.Enum):
        RED = "red"

    class Model(BaseModel):
        name: str
        key: SecretStr

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque thing>"

    circular: dict[str, Any] = {}
    circular["self"] = circular
    with capture_logs() as logs:
        get_logger("t").info(
            "values",
            extra={
                "uuid": JOB_ID,
                "money": Decimal("1.25"),
                "when": datetime(2025, 11, 14, 10, 30, tzinfo=UTC),
                "path": Path("/tmp/a.mp3"),
                "tags": {"b"},
                "blob": b"\x00\x01\x02",
                "colour": Colour.RED,
                "model": Model(name="n", key=SecretStr("hidden-model-secret")),
                "opaque": Opaque(),
                "error": ValueError("bad"),
            },
        )
        get_logger("t").info("odd", extra={"nan": float("nan"), "loop": circular})
    values, odd = logs.records
    assert values["uuid"] == str(JOB_ID)
    assert values["money"] == "1.25"
    assert values["when"] == "2025-11-14T10:30:00+00:00"
    assert values["path"] == "/tmp/a.mp3"
    assert values["tags"] == ["b"]
    assert values["blob"] == "<3 bytes>"
    assert values["colour"] == "red"
    assert values["model"] == {"name": "n", "key": "**********"}
    assert values["opaque"] == "<Opaque thing>"
    assert values["error"] == "ValueError: bad"
    assert odd["nan"] == "nan"
    assert odd["loop"] == {"self": "[circular]"}


def test_a_value_json_cannot_render_still_gives_one_line() -> None:
    with capture_logs() as logs:
        get_logger("t").info("huge", extra={"n": 10**5000})  # past int-to-text's 4,300 digits
    (record,) = logs.records
    assert (record["message"], record["log_error"]) == (
        "huge",
        "record could not be rendered: ValueError",
    )


def test_logging_needs_no_pydantic_until_the_caller_has_it(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from runtime.logging import configure_logging, get_logger\n"
        "configure_logging(level='INFO', log_file=sys.argv[1])  # both given: no settings read\n"
        "get_logger('t').info('plain', extra={'nested': {'a': [1]}})\n"
        "assert 'pydantic' not in sys.modules\n"
        "import pydantic\n"
        "class Login(pydantic.BaseModel):\n"
        "    user: str\n"
        "    password: str\n"
        "login = Login(user='u', password='hunter2hunter2')\n"
        "get_logger('t').info('model', extra={'login': login})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "t.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    plain, model = (json.loads(line) for line in done.stderr.splitlines())
    assert plain["nested"] == {"a": [1]}
    assert model["login"] == {"user": "u", "password": REDACTED}
    assert "hunter2hunter2" not in done.stderr


def test_exception_traceback_is_included() -> None:
    logger = get_logger("t")
    with capture_logs() as logs:
        try:
            raise RuntimeError("beat detection failed")
        except RuntimeError:
            logger.exception("Failed to detect beats")
    record = logs.records[0]
    assert record["level"] == "ERROR"
    assert record["exc_type"] == "RuntimeError"
    assert "beat detection failed" in record["exception"]
    assert "Traceback" in record["exception"]


def test_stack_info_is_included_when_asked() -> None:
    with capture_logs() as logs:
        get_logger("t").info("where", stack_info=True)
    assert "test_stack_info_is_included_when_asked" in logs.records[0]["stack"]


def test_get_logger_names_are_shown_as_module_without_prefix() -> None:
    with capture_logs() as logs:
        get_logger("runtime.database").info("a")
        get_logger("videogen.cost").info("b")
    assert [r["module"] for r in logs] == ["runtime.database", "cost"]


def test_get_logger_refuses_an_empty_name() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        get_logger("  ")


def test_bound_fields_are_added_and_call_extra_wins() -> None:
    logger = get_logger("t").bind(scene=1, model="sdxl")
    with capture_logs() as logs:
        logger.info("a")
        logger.info("b", extra={"scene": 2})
    assert [(r["scene"], r["model"]) for r in logs] == [(1, "sdxl"), (2, "sdxl")]


def test_records_do_not_propagate_to_the_root_logger() -> None:
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    collector = Collect()
    logging.getLogger().addHandler(collector)
    try:
        with capture_logs():
            get_logger("t").warning("only ours")
    finally:
        logging.getLogger().removeHandler(collector)
    assert seen == []


# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------


def test_log_context_adds_job_id_and_stage() -> None:
    with capture_logs() as logs, log_context(job_id=JOB_ID, stage="audio_analysis"):
        get_logger("t").info("in context")
    assert (logs.records[0]["job_id"], logs.records[0]["stage"]) == (str(JOB_ID), "audio_analysis")


def test_nested_contexts_merge_and_restore() -> None:
    logger = get_logger("t")
    with capture_logs() as logs, log_context(job_id=JOB_ID, stage="outer", user="u1"):
        with log_context(stage="inner", scene=4):
            logger.info("inner")
            assert current_log_context() == {
                "job_id": JOB_ID,
                "stage": "inner",
                "user": "u1",
                "scene": 4,
            }
        logger.info("outer")
    inner, outer = logs.records
    assert (inner["stage"], inner["scene"], inner["user"]) == ("inner", 4, "u1")
    assert outer["stage"] == "outer"
    assert "scene" not in outer
    assert current_log_context() == {}


def test_explicit_extra_wins_over_context() -> None:
    other = uuid.uuid4()
    with capture_logs() as logs, log_context(job_id=JOB_ID, stage="s"):
        get_logger("t").info("explicit", extra={"job_id": str(other)})
    assert logs.records[0]["job_id"] == str(other)
    assert logs.records[0]["stage"] == "s"


async def test_context_flows_into_asyncio_tasks_and_stays_separate() -> None:
    logger = get_logger("worker")

    async def process(job: uuid.UUID, stage: str) -> None:
        with log_context(job_id=job, stage=stage):
            for step in range(3):
                await asyncio.sleep(0)
                # a task created inside the context inherits it
                await asyncio.create_task(_log_step(logger, step))

    jobs = [uuid.uuid4() for _ in range(3)]
    with capture_logs() as logs:
        await asyncio.gather(*(process(job, f"stage-{i}") for i, job in enumerate(jobs)))
    assert len(logs) == 9
    for i, job in enumerate(jobs):
        mine = logs.filter(job_id=str(job))
        assert len(mine) == 3
        assert {r["stage"] for r in mine} == {f"stage-{i}"}


async def _log_step(logger: Any, step: int) -> None:
    logger.info("step", extra={"step": step})


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk-AbCdEfGhIjKlMnOpQrStUv",
        "r8_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "sb_secret_AbCdEfGhIjKlMnOp_qrs",
        "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJlLWJ5dGVz",
    ],
)
def test_key_and_jwt_shaped_strings_are_redacted(secret: str) -> None:
    with capture_logs() as logs:
        get_logger("t").info(f"calling with {secret}", extra={"header": f"x {secret} y"})
    assert secret not in logs.lines[0]
    assert logs.records[0]["message"] == f"calling with {REDACTED}"
    assert logs.records[0]["header"] == f"x {REDACTED} y"


def test_bearer_tokens_url_passwords_and_query_tokens_are_redacted() -> None:
    text = (
        "Authorization: Bearer abcdefghijklmnop "
        "redis://:hunter2hunter2@cache.internal:6379/0 "
        "https://x.test/file?token=abc123def456&x=1"
    )
    assert redact(text) == (
        f"Authorization: Bearer {REDACTED} "
        f"redis://:{REDACTED}@cache.internal:6379/0 "
        f"https://x.test/file?token={REDACTED}&x=1"
    )


def test_secret_setting_values_are_redacted_even_without_a_known_shape(
    settings_values: dict[str, Any],
) -> None:
    settings_values["jwt_secret_key"] = "plain words that sign our tokens"
    Settings(_env_file=None, **settings_values)
    with capture_logs() as logs:
        get_logger("t").error(
            "leaked plain words that sign our tokens",
            extra={"nested": {"v": ["plain words that sign our tokens"]}},
        )
    assert "plain words that sign our tokens" not in logs.lines[0]
    assert logs.records[0]["nested"] == {"v": [REDACTED]}


def test_registered_secret_with_json_special_characters_is_redacted() -> None:
    register_secret('quote"back\\slash-secret')
    with capture_logs() as logs:
        get_logger("t").info('value quote"back\\slash-secret end')
    assert logs.records[0]["message"] == f"value {REDACTED} end"


def test_short_registered_values_are_ignored() -> None:
    register_secret("abc")
    register_secret(None)
    assert redact("abc abc") == "abc abc"


def test_fields_named_like_secrets_are_redacted_but_counts_are_not() -> None:
    with capture_logs() as logs:
        get_logger("t").info(
            "call",
            extra={
                "api_key": "anything",
                "password": "pw",
                "access_token": "t",
                "token_count": 1200,
                "max_tokens": 300,
            },
        )
    record = logs.records[0]
    assert record["api_key"] == record["password"] == record["access_token"] == REDACTED
    assert (record["token_count"], record["max_tokens"]) == (1200, 300)


def test_secret_named_keys_are_redacted_inside_nested_extras() -> None:
    with capture_logs() as logs:
        get_logger("t").info(
            "call",
            extra={
                "payload": {"cfg": {"password": "hunter2hunter2", "retries": 3}},
                "headers": [{"x-api-key": "plainvalue123", "accept": "json"}],
                "openai_key": "not-shaped-like-a-key",
                "cache_key": "songs:1",
            },
        )
    record = logs.records[0]
    assert record["payload"] == {"cfg": {"password": REDACTED, "retries": 3}}
    assert record["headers"] == [{"x-api-key": REDACTED, "accept": "json"}]
    assert record["openai_key"] == REDACTED
    assert record["cache_key"] == "songs:1"


def test_pinned_secret_survives_many_later_registrations() -> None:
    register_secret("pinned-value-for-this-test", pinned=True)
    for index in range(300):
        register_secret(f"unpinned-throwaway-{index:04d}")
    assert redact("x pinned-value-for-this-test y") == f"x {REDACTED} y"


def test_arguments_that_do_not_fit_the_message_still_give_one_redacted_line(
    fresh_logging: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(level="INFO", log_file=None)
    # Only our handlers: pytest attaches its own to non-propagating loggers, and they raise.
    monkeypatch.setattr(logging.getLogger(BASE_LOGGER_NAME), "handlers", _videogen_handlers())
    get_logger("t").info("auth %s %d", "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz", "x")
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    message = json.loads(line)["message"]
    assert message.startswith("auth %s %d [log arguments did not fit the message: TypeError")
    assert "abcdefghijklmnop" not in err
    assert "Logging error" not in err


class _FailingStderr:
    """A stderr whose writes of log lines fail, and that keeps anything else written to it."""

    def __init__(self) -> None:
        self.kept: list[str] = []

    def write(self, text: str) -> int:
        if "boom-marker" in text:
            raise OSError("disk full")
        self.kept.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_a_failed_write_is_reported_without_the_records_arguments(
    fresh_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(level="INFO", log_file=None)
    failing = _FailingStderr()
    monkeypatch.setattr(sys, "stderr", failing)
    get_logger("t").info("boom-marker %s", "Bearer sk-proj-abcdefghijklmnopqrstuvwxyz")
    report = "".join(failing.kept)
    assert "could not be written: OSError: disk full" in report
    assert "abcdefghijklmnop" not in report
    assert "Arguments" not in report


# ---------------------------------------------------------------------------------------------
# Levels, console, configuration
# ---------------------------------------------------------------------------------------------


def test_level_filters_console_output(
    fresh_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="WARNING", log_file=None)
    logger = get_logger("t")
    logger.info("hidden")
    logger.warning("shown")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["shown"]


def test_level_comes_from_settings(
    fresh_logging: None, settings_values: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    settings_values["log_level"] = "ERROR"
    with override_settings(Settings(_env_file=None, **settings_values)):
        configure_logging()
    get_logger("t").warning("hidden")
    get_logger("t").error("shown")
    messages = [json.loads(line)["message"] for line in capsys.readouterr().err.splitlines()]
    assert messages == ["shown"]


def test_without_valid_settings_level_falls_back_to_log_level_variable(
    fresh_logging: None, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    configure_logging()
    assert logging.getLogger(BASE_LOGGER_NAME).level == logging.WARNING


def test_without_settings_or_valid_variable_level_is_info(
    fresh_logging: None, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    configure_logging()
    assert logging.getLogger(BASE_LOGGER_NAME).level == logging.INFO


def test_first_log_call_configures_logging(
    fresh_logging: None, clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _videogen_handlers() == []
    get_logger("t").info("first")
    assert len(_videogen_handlers()) == 1
    assert json.loads(capsys.readouterr().err)["message"] == "first"


def test_configure_logging_twice_does_not_duplicate_handlers(
    fresh_logging: None, tmp_path: Path
) -> None:
    configure_logging(level="INFO", log_file=tmp_path / "a.log")
    configure_logging(level="INFO", log_file=tmp_path / "a.log")
    assert len(_videogen_handlers()) == 2  # one console, one file


def test_console_goes_to_the_current_stderr(
    fresh_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO", log_file=None)
    get_logger("t").info("to stderr")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["message"] == "to stderr"


@pytest.mark.parametrize("level", ["TRACE", 5, True, 2.0])
def test_unknown_level_is_refused(fresh_logging: None, level: Any) -> None:
    with pytest.raises(ValueError, match="log level"):
        configure_logging(level=level)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"max_bytes": 0}, "max_bytes"), ({"backup_count": -1}, "backup_count")],
)
def test_out_of_range_file_bounds_are_refused(
    fresh_logging: None, kwargs: dict[str, int], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        configure_logging(level="INFO", **kwargs)


def test_capture_logs_restores_the_logger_level(fresh_logging: None) -> None:
    configure_logging(level="ERROR", log_file=None)
    with capture_logs(level="DEBUG") as logs:
        get_logger("t").debug("captured")
    assert logs.messages == ["captured"]
    assert logging.getLogger(BASE_LOGGER_NAME).level == logging.ERROR


def test_capture_find_reports_what_was_captured() -> None:
    with capture_logs() as logs:
        get_logger("t").info("one")
    with pytest.raises(AssertionError, match="one"):
        logs.find(message="two")


# ---------------------------------------------------------------------------------------------
# File output and rotation
# ---------------------------------------------------------------------------------------------


def test_file_output_writes_json_lines(fresh_logging: None, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "worker.log"
    configure_logging(level="INFO", log_file=path)
    with log_context(job_id=JOB_ID):
        get_logger("composer").info("written", extra={"scene": 2})
    reset_logging()  # close the file
    (record,) = _read_json_lines(path)
    assert (record["message"], record["job_id"], record["scene"]) == ("written", str(JOB_ID), 2)


def test_file_path_comes_from_settings(
    fresh_logging: None, tmp_path: Path, settings_values: dict[str, Any]
) -> None:
    settings_values["log_file"] = str(tmp_path / "from-settings.log")
    with override_settings(Settings(_env_file=None, **settings_values)):
        configure_logging()
    get_logger("t").warning("to file")
    reset_logging()
    assert _read_json_lines(tmp_path / "from-settings.log")[0]["message"] == "to file"


def test_file_rotates_at_max_bytes_keeping_backup_count(
    fresh_logging: None, tmp_path: Path
) -> None:
    path = tmp_path / "rot.log"
    configure_logging(level="INFO", log_file=path, max_bytes=2_000, backup_count=2)
    logger = get_logger("t")
    for i in range(100):
        logger.info("filler line", extra={"seq": i})
    reset_logging()
    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert files == ["rot.log", "rot.log.1", "rot.log.2"]
    kept = _read_json_lines(*(tmp_path / n for n in files))
    longest_line = max(len(json.dumps(r)) for r in kept) + 1
    for name in files:  # rotation happens once a write would cross the limit
        assert (tmp_path / name).stat().st_size <= 2_000 + longest_line
    assert max(r["seq"] for r in kept) == 99  # the newest lines survive rotation


def test_two_processes_writing_one_rotating_file_lose_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "shared.log"
    lines_each = 400
    script = (
        "import sys\n"
        "from runtime.logging import configure_logging, get_logger\n"
        "configure_logging(level='INFO', log_file=sys.argv[1], max_bytes=40_000, "
        "backup_count=40)\n"
        "log = get_logger('writer')\n"
        "for i in range(int(sys.argv[3])):\n"
        "    log.info('line', extra={'writer': sys.argv[2], 'seq': i, 'pad': 'x' * 80})\n"
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), name, str(lines_each)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    files = [p for p in tmp_path.iterdir() if p.name.startswith("shared.log")]
    assert len(files) > 2  # it rotated while both wrote
    records = _read_json_lines(*files)
    seen = sorted((r["writer"], r["seq"]) for r in records)
    assert seen == sorted((w, i) for w in ("a", "b") for i in range(lines_each))


# ---------------------------------------------------------------------------------------------
# Module boundaries
# ---------------------------------------------------------------------------------------------


def test_config_does_not_import_logging() -> None:
    """The settings register secrets in ``runtime._redaction``: no config <-> logging cycle."""
    tree = ast.parse((Path(runtime.__file__).parent / "config.py").read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert "runtime.logging" not in imported
    assert "runtime._redaction" in imported


def test_runtime_modules_see_the_stdlib_logging_module() -> None:
    """``runtime/logging.py`` shadows the stdlib name only as ``runtime.logging``, never inside."""
    package = Path(runtime.__file__).parent
    for path in sorted(package.rglob("*.py")):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        module = importlib.import_module(name)
        # a package's ``logging`` attribute is its submodule (runtime.logging), not an import
        if isinstance(getattr(module, "logging", None), types.ModuleType) and name != "runtime":
            assert module.logging is logging, name
