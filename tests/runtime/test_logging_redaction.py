"""Redaction regressions: one test per leak class found in issue 9 (finding 3), plus the rules.

Each test logs through the public API and asserts on the real rendered line (``capture_logs``
formats exactly as production does).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pydantic import BaseModel

from runtime._log_ratelimit import MAX_KEYS
from runtime._redaction import is_secret_name
from runtime._redaction_walk import MAX_DEPTH, MAX_NODES, TRUNCATED, redaction_processor
from runtime.logging import (
    REDACTED,
    LogRateLimiter,
    configure_logging,
    get_logger,
    log_context,
    redact,
    register_secret,
)
from runtime.logging import _reset_for_tests as reset_logging
from runtime.testing import capture_logs

SECRET = "Xq7hunter2Zp9secret"


def _logged(*args: Any, **kwargs: Any) -> str:
    """Log one INFO line and return it as rendered."""
    with capture_logs() as logs:
        get_logger("t").info(*args, **kwargs)
    (line,) = logs.lines
    return line


# ---------------------------------------------------------------------------------------------
# Key names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "accessToken",
        "clientSecret",
        "dbPassword",
        "privateKey",
        "apiToken",
        "ACCESS-TOKEN",
        "Client.Secret",
        "db password",
        "x-api-key",
        "X_API_KEY",
        "apikey",
        "PASSWD",
        "userPwd",
        "refreshtoken",
        "SessionCookie",
        "serviceRoleKey",
        "awsSecretAccessKey",
        "Authorization",
        "basicAuth",
        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",  # fullwidth "password", NFKC-folded
    ],
)
def test_secret_names_match_in_any_case_and_separator_style(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "token_count", "promptTokens", "cache_key", "object_key", "keyframe", "stage"],
)
def test_ordinary_names_are_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


def test_camel_case_keys_are_redacted() -> None:
    names = ["accessToken", "clientSecret", "dbPassword", "privateKey", "apiToken"]
    line = _logged("call", extra={"payload": {name: f"{SECRET}-{name}" for name in names}})
    assert SECRET not in line
    assert json.loads(line)["payload"] == dict.fromkeys(names, REDACTED)


def test_bytes_keys_are_redacted() -> None:
    line = _logged("call", extra={"payload": {b"password": SECRET, b"user": b"ab"}})
    assert SECRET not in line
    assert json.loads(line)["payload"] == {"password": REDACTED, "user": "<2 bytes>"}


# ---------------------------------------------------------------------------------------------
# Structures
# ---------------------------------------------------------------------------------------------


class _Login(BaseModel):
    user: str
    password: str


def test_pydantic_model_with_a_plain_str_password_is_redacted() -> None:
    line = _logged("login", extra={"login": _Login(user="ann", password=SECRET)})
    assert SECRET not in line
    assert json.loads(line)["login"] == {"user": "ann", "password": REDACTED}


@dataclasses.dataclass
class _DbConfig:
    host: str
    db_password: str


def test_dataclass_fields_are_redacted() -> None:
    line = _logged("cfg", extra={"cfg": _DbConfig(host="db", db_password=SECRET)})
    assert SECRET not in line
    assert json.loads(line)["cfg"] == {"host": "db", "db_password": REDACTED}


class _Client:
    def __init__(self) -> None:
        self.base_url = "https://api.test"
        self.apiKey = SECRET


class _Slotted:
    __slots__ = ("name", "secret")

    def __init__(self) -> None:
        self.name = "s"
        self.secret = SECRET


def test_object_attributes_are_redacted() -> None:
    line = _logged("objects", extra={"client": _Client(), "slotted": _Slotted()})
    assert SECRET not in line
    record = json.loads(line)
    assert record["client"] == {"base_url": "https://api.test", "apiKey": REDACTED}
    assert record["slotted"] == {"name": "s", "secret": REDACTED}


def test_a_secret_nested_deeper_than_twenty_levels_is_redacted() -> None:
    nested: Any = {"password": SECRET}
    for _ in range(40):
        nested = {"level": [nested]}
    line = _logged("deep", extra={"deep": nested})
    assert SECRET not in line
    assert REDACTED in line


def test_nesting_beyond_the_depth_bound_is_truncated_not_printed() -> None:
    nested: Any = SECRET  # not under a secret name: only the bound keeps it out
    for _ in range(MAX_DEPTH + 5):
        nested = [nested]
    line = _logged("deep", extra={"deep": nested})
    assert SECRET not in line
    assert TRUNCATED in line


def test_a_structure_nested_five_thousand_levels_deep_gives_one_line() -> None:
    nested: Any = {"token": SECRET}
    for _ in range(5000):
        nested = {"n": nested}
    line = _logged("very deep", extra={"deep": nested})
    assert SECRET not in line
    assert json.loads(line)["message"] == "very deep"


def test_values_beyond_the_size_bound_are_truncated_not_printed() -> None:
    values = [f"v{i}" for i in range(MAX_NODES + 10)] + [SECRET]
    line = _logged("big", extra={"values": values})
    assert SECRET not in line
    assert json.loads(line)["values"][-1] == TRUNCATED


def test_a_secret_inside_a_cyclic_dict_is_redacted() -> None:
    loop: dict[str, Any] = {"clientSecret": SECRET}
    loop["self"] = loop
    loop["list"] = [loop, {"inner": loop}]
    line = _logged("cycle", extra={"loop": loop})
    assert SECRET not in line
    assert json.loads(line)["loop"] == {
        "clientSecret": REDACTED,
        "self": "[circular]",
        "list": ["[circular]", {"inner": "[circular]"}],
    }


def test_a_value_seen_under_a_secret_name_is_removed_from_the_whole_line() -> None:
    class Custom:
        def __init__(self) -> None:
            self.token = SECRET

    line = _logged("token was %s", SECRET, extra={"obj": Custom()})
    assert SECRET not in line


# ---------------------------------------------------------------------------------------------
# URLs and text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.test/v1?password={SECRET}",
        f"https://api.test/v1?x=1&accessToken={SECRET}&y=2",
        f"https://api.test/v1?client-secret={SECRET}#frag",
        f"https://api.test/v1?sig={SECRET}",
        f"postgresql://app:{SECRET}@db.internal:5432/app",
        f"redis://:{SECRET}@cache:6379/0",
    ],
)
def test_url_credentials_and_secret_query_parameters_are_redacted(url: str) -> None:
    line = _logged("fetch %s", url, extra={"url": url})
    assert SECRET not in line
    assert json.loads(line)["url"].count(REDACTED) == 1


def test_ordinary_query_parameters_are_kept() -> None:
    assert redact("https://a.test/?page=2&limit=10") == "https://a.test/?page=2&limit=10"


@pytest.mark.parametrize(
    "text",
    [
        f"login failed: password={SECRET}",
        f"bad config {{'dbPassword': '{SECRET}'}}",
        f'bad config {{"api_key": "{SECRET}"}}',
        f"Authorization: Bearer {SECRET}",
        f"clientSecret: {SECRET}",
    ],
)
def test_secret_named_pairs_in_text_are_redacted(text: str) -> None:
    assert SECRET not in redact(text)


def test_secrets_in_exception_text_and_traceback_are_redacted() -> None:
    with capture_logs() as logs:
        try:
            raise ValueError(f"connect failed for postgresql://u:{SECRET}@db/x, token={SECRET}")
        except ValueError:
            get_logger("t").exception("failed")
    assert SECRET not in logs.lines[0]
    assert "connect failed" in logs.records[0]["exception"]


def test_secrets_in_an_exception_passed_as_a_field_are_redacted() -> None:
    line = _logged("failed", extra={"error": RuntimeError(f"password={SECRET}")})
    assert SECRET not in line
    assert json.loads(line)["error"] == f"RuntimeError: password={REDACTED}"


def test_registered_secret_inside_exception_text_is_redacted() -> None:
    register_secret(SECRET + "-registered")
    with capture_logs() as logs:
        try:
            raise OSError(f"cannot reach host with {SECRET}-registered")
        except OSError:
            get_logger("t").exception("failed")
    assert SECRET not in logs.lines[0]


# ---------------------------------------------------------------------------------------------
# % arguments
# ---------------------------------------------------------------------------------------------


def test_structures_in_percent_arguments_are_redacted() -> None:
    line = _logged("config %s / %r", {"dbPassword": SECRET}, _DbConfig("h", SECRET))
    assert SECRET not in line
    assert json.loads(line)["message"] == (
        f"config {{'dbPassword': '{REDACTED}'}} / {{'host': 'h', 'db_password': '{REDACTED}'}}"
    )


def test_mapping_percent_arguments_with_secret_names_are_redacted() -> None:
    line = _logged("user %(user)s pw %(password)s", {"user": "ann", "password": SECRET})
    assert json.loads(line)["message"] == f"user ann pw {REDACTED}"


def test_numeric_percent_arguments_keep_their_format() -> None:
    assert json.loads(_logged("%d of %.1f", 3, 2.25))["message"] == "3 of 2.2"


# ---------------------------------------------------------------------------------------------
# Reserved extra names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["message", "args", "msg", "levelname", "module", "timestamp"])
def test_reserved_extra_names_are_renamed_not_raised(name: str) -> None:
    line = _logged("real message", extra={name: "caller value"})
    record = json.loads(line)
    assert record["message"] == "real message"
    assert record[f"extra_{name}"] == "caller value"


def test_reserved_names_in_bound_fields_and_context_are_renamed() -> None:
    with capture_logs() as logs, log_context(args="from context"):
        get_logger("t").bind(message="bound").info("real")
    record = logs.records[0]
    assert (record["message"], record["extra_message"], record["extra_args"]) == (
        "real",
        "bound",
        "from context",
    )


# ---------------------------------------------------------------------------------------------
# File output gets the same redaction
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    reset_logging()
    yield
    reset_logging()


def test_file_handler_lines_are_redacted(fresh_logging: None, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    configure_logging(level="INFO", log_file=path)
    get_logger("t").info("login", extra={"login": _Login(user="u", password=SECRET)})
    reset_logging()
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert json.loads(text)["login"]["password"] == REDACTED


# ---------------------------------------------------------------------------------------------
# Rate limiting
# ---------------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_emits_once_per_interval_and_counts_the_rest() -> None:
    clock = _Clock()
    limiter = LogRateLimiter(10.0, clock=clock)
    logger = get_logger("t")
    with capture_logs() as logs:
        for second in range(25):
            clock.now = float(second)
            limiter.log(logger, logging.WARNING, "cache-write", "not cached: %s", "down")
    assert [r["suppressed"] for r in logs] == [0, 9, 9]
    assert logs.messages == ["not cached: down"] * 3


def test_rate_limiter_keys_are_independent() -> None:
    limiter = LogRateLimiter(60.0, clock=_Clock())
    assert [limiter.check(key) for key in ("a", "b", "a", "b")] == [0, 0, None, None]


@pytest.mark.parametrize("interval", [0, -1.0, float("nan"), float("inf"), True])
def test_rate_limiter_refuses_a_bad_interval(interval: Any) -> None:
    with pytest.raises(ValueError, match="interval_seconds"):
        LogRateLimiter(interval)


def test_rate_limiter_warning_names_the_kind_and_the_suppressed_count() -> None:
    clock = _Clock()
    limiter = LogRateLimiter(10.0, clock=clock)
    logger = get_logger("t")
    with capture_logs() as logs:
        for second in (0, 1, 2, 3, 12):
            clock.now = float(second)
            limiter.warning(logger, "cache_read_miss", "read failed: %s", "down", operation="get")
    assert [(r["kind"], r["suppressed"], r["operation"]) for r in logs] == [
        ("cache_read_miss", 0, "get"),
        ("cache_read_miss", 3, "get"),
    ]
    assert logs.messages == [
        "read failed: down",
        "read failed: down (3 similar warnings suppressed in the last 10 s)",
    ]
    assert limiter.seen == {"cache_read_miss": 5}


def test_rate_limiter_interval_can_change_and_reset_forgets() -> None:
    limiter = LogRateLimiter(clock=_Clock())
    assert limiter.interval_seconds == 10.0
    assert [limiter.check("k"), limiter.check("k")] == [0, None]
    limiter.interval_seconds = 0.5  # starts afresh
    assert limiter.check("k") == 0
    with pytest.raises(ValueError, match="interval_seconds"):
        limiter.interval_seconds = 0
    limiter.reset()
    assert limiter.seen == {}
    assert limiter.check("k") == 0


def test_rate_limiter_forgets_the_least_recent_keys_and_their_counts() -> None:
    limiter = LogRateLimiter(60.0, clock=_Clock())
    for index in range(MAX_KEYS + 10):
        limiter.check(f"key-{index}")
    assert len(limiter.seen) == MAX_KEYS
    assert "key-0" not in limiter.seen
    assert limiter.check("key-0") == 0  # forgotten, so emitted again


# ---------------------------------------------------------------------------------------------
# The redaction as a structlog-shaped processor
# ---------------------------------------------------------------------------------------------


def test_the_redaction_processor_redacts_an_event_dict() -> None:
    event = {
        "event": f"login as {SECRET}",
        "login": _Login(user="ann", password=SECRET),
        "url": f"https://a.test/?accessToken={SECRET}",
    }
    result = redaction_processor(None, "info", event)
    assert SECRET not in json.dumps(result)
    assert result["login"] == {"user": "ann", "password": REDACTED}
    assert result["event"] == f"login as {REDACTED}"


def test_a_huge_mapping_is_cut_at_the_size_bound_with_a_marker() -> None:
    huge = {f"k{i}": i for i in range(MAX_NODES * 3)}
    record = json.loads(_logged("huge", extra={"huge": huge}))
    assert len(record["huge"]) <= MAX_NODES + 1
    assert record["huge"][TRUNCATED] == TRUNCATED


# ---------------------------------------------------------------------------------------------
# Leaks an independent audit found after the first round (namedtuples, Enum keys, URL userinfo
# with "/" or "@" or a bare token, passphrases with spaces)
# ---------------------------------------------------------------------------------------------


class _Credentials(NamedTuple):
    user: str
    password: str


class _Field(enum.Enum):
    PASSWORD = "password"
    NAME = "name"


def test_namedtuple_fields_are_redacted_by_their_names() -> None:
    line = _logged("creds", extra={"c": _Credentials("bob", SECRET)})
    assert SECRET not in line
    assert json.loads(line)["c"] == {"user": "bob", "password": REDACTED}


def test_enum_keys_are_matched_by_their_names() -> None:
    line = _logged("form", extra={"form": {_Field.PASSWORD: SECRET, _Field.NAME: "bob"}})
    assert SECRET not in line
    assert "bob" in line


@pytest.mark.parametrize(
    "url",
    [
        f"https://bob:{SECRET}/x@db.example.com/path",
        f"https://bob:{SECRET}@x@db.example.com/path",
        f"https://{SECRET}@api.example.com/v1",
        f"postgresql://postgres:{SECRET}@127.0.0.1:5432/app",
    ],
)
def test_url_userinfo_is_redacted_whatever_it_holds(url: str) -> None:
    line = _logged("connecting to %s", url)
    assert SECRET not in line
    assert REDACTED in line


@pytest.mark.parametrize(
    "url", ["https://registry.example.com/@scope/pkg", "https://host:8080/path@x"]
)
def test_an_at_sign_in_a_url_path_is_left_alone(url: str) -> None:
    assert url in _logged("fetching %s", url)


def test_a_passphrase_with_spaces_is_redacted_whole() -> None:
    line = _logged("login failed: password=correct horse battery staple, user=bob")
    assert "horse" not in line
    assert "staple" not in line
    assert "user=bob" in line
