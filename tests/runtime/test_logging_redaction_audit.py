"""Redaction regressions from the second independent audit (issue 9, "redaction by construction").

One test per leak class, each with the audit's reproducer and its relatives: (a) the tail of an
unquoted value after ``,`` ``;`` ``)`` ``]`` ``}`` ``&``; (b) a ``repr`` cut before it was
scrubbed; (c) structures that carry a secret name as data (pairs, argv flags, name/value records,
tuple keys); (d) YAML next-line values and fullwidth separators; and the public processor for an
application's own structlog chain. Every test searches the rendered line for any 5-character
window of the secret, so a partly redacted secret fails.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import structlog

from runtime._redaction_walk import MAX_REPR_CHARS, safe_repr
from runtime.logging import REDACTED, get_logger, log_context, redact, redaction_processor
from runtime.testing import capture_logs

SECRET = "Hx7kQ2mZp9"


def _logged(*args: Any, **kwargs: Any) -> str:
    """Log one WARNING line and return it as rendered."""
    with capture_logs() as logs:
        get_logger("audit").warning(*args, **kwargs)
    (line,) = logs.lines
    return line


def _assert_hidden(line: str, secret: str = SECRET) -> None:
    for start in range(len(secret) - 4):
        assert secret[start : start + 5] not in line, f"{secret[start : start + 5]!r} in {line}"


# -- (a) the tail of an unquoted value ----------------------------------------------------------


@pytest.mark.parametrize("punct", [",", ";", ")", "]", "}", "&", "|", "#", "%", "'", '"'])
@pytest.mark.parametrize("form", ["password={v}", "db password: {v}", "token={v}", "apiKey = {v}"])
def test_an_unquoted_value_is_redacted_past_punctuation(form: str, punct: str) -> None:
    value = f"ab{punct}{SECRET}"
    _assert_hidden(_logged(f"login failed {form.format(v=value)} for bob"))


def test_the_audit_reproducer_and_exception_text_and_percent_arguments() -> None:
    _assert_hidden(_logged("login failed password=ab,Hx7kQ2mZp9"))
    _assert_hidden(_logged("x", extra={"error": RuntimeError("password=ab;Hx7kQ2mZp9")}))
    _assert_hidden(_logged("password=%s", "ab)Hx7kQ2mZp9"))
    try:
        raise ValueError("token=ab]Hx7kQ2mZp9")
    except ValueError:
        with capture_logs() as logs:
            get_logger("audit").exception("failed")
    _assert_hidden(logs.lines[0])


def test_the_next_pair_after_an_unquoted_value_is_kept() -> None:
    line = _logged("login failed password=abc, user=bob attempt=3")
    assert "user=bob attempt=3" in line
    assert "abc" not in line


@pytest.mark.parametrize(
    "text",
    [
        "psql --password=ab,Hx7kQ2mZp9 -h db",
        "psql --password Hx7kQ2mZp9 -h db",
        "psql -h db --api-token ab;Hx7kQ2mZp9",
        'login password="ab"Hx7kQ2mZp9 failed',
    ],
)
def test_command_line_flags_and_values_going_on_after_a_quote_are_redacted(text: str) -> None:
    _assert_hidden(_logged(text))


def test_a_secret_query_value_may_hold_a_semicolon() -> None:
    _assert_hidden(_logged("GET https://x.test/a?page=2&password=ab;Hx7kQ2mZp9&n=1"))


def test_a_value_partly_blanked_by_a_known_value_is_blanked_whole() -> None:
    assert redact("Authorization: Bearer abcdefghijklmnop next") == (
        f"Authorization: Bearer {REDACTED} next"
    )


# -- (b) reprs are scrubbed before they are cut -------------------------------------------------


def _unused(*args: Any, **kwargs: Any) -> None:
    """A function to wrap in ``functools.partial``."""


def _partial(pad: int) -> functools.partial[None]:
    return functools.partial(_unused, a="A" * pad, password=SECRET + "TAIL")


@pytest.mark.parametrize("cut_at", [-3, 0, 1, 5, 9, 12, 20, 70_000])
def test_a_long_repr_is_scrubbed_before_it_is_cut(cut_at: int) -> None:
    # The padding puts the repr bound ``cut_at`` characters into the secret (the audit's case).
    pad = MAX_REPR_CHARS - repr(_partial(0)).index(SECRET) - cut_at
    value = _partial(pad if cut_at < 1000 else cut_at)
    line = _logged("p", extra={"x": value})
    _assert_hidden(line)
    assert "TAIL" not in line
    assert len(safe_repr(value)) <= MAX_REPR_CHARS


def test_an_unclosed_quoted_value_runs_to_the_end_of_the_text() -> None:
    assert SECRET[2:] not in redact(f"cut short: password='{SECRET}")
    assert SECRET[2:] not in redact(f'cut short: "password": "ab, {SECRET}')


# -- (c) structures that carry a secret name as data -------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        [("X-Api-Key", SECRET)],
        [("Accept", "json"), ("password", SECRET)],
        [["password", SECRET]],
        ("authorization", SECRET),
        ["psql", "--password", SECRET, "-h", "db"],
        [{"name": "DB_PASSWORD", "value": SECRET}],
        {"key": "api_key", "value": SECRET},
        {"Name": "DB_PASSWORD", "Type": "SecureString", "Value": SECRET},
        {"Value": SECRET, "Name": "clientSecret"},
        {"ParameterKey": "DbPassword", "ParameterValue": SECRET},
        {("password",): SECRET},
        {("db", "password"): SECRET, ("n",): 1},
    ],
)
@pytest.mark.parametrize("channel", ["extra", "percent", "exception_text", "message"])
def test_a_secret_name_carried_as_data_redacts_its_value(value: Any, channel: str) -> None:
    if channel == "extra":
        line = _logged("h", extra={"headers": value})
    elif channel == "percent":
        line = _logged("h %s", value)
    elif channel == "exception_text":
        line = _logged("h", extra={"error": ValueError("bad", value)})
    else:
        line = _logged(f"h {value!r}")
    _assert_hidden(line)


def test_a_name_value_record_as_percent_mapping_redacts_its_value() -> None:
    _assert_hidden(_logged("%(name)s is %(value)s", {"name": "DB_PASSWORD", "value": SECRET}))


def test_ordinary_name_value_records_and_pairs_are_kept() -> None:
    record = json.loads(
        _logged("env", extra={"env": [{"name": "HOME", "value": "/home/app"}, ("lang", "en")]})
    )
    assert record["env"] == [{"name": "HOME", "value": "/home/app"}, ["lang", "en"]]


# -- (d) YAML next-line values, fullwidth separators ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"config:\n  password:\n    {SECRET}\n  port: 5432",
        f"password:\n  {SECRET}",
        f"password\uff1a{SECRET}",
        f"api_key\uff1d{SECRET}",
    ],
)
def test_yaml_next_line_values_and_fullwidth_separators_are_redacted(text: str) -> None:
    _assert_hidden(_logged(text))
    _assert_hidden(_logged("cfg", extra={"text": text}))


# -- the processor for an application's own structlog chain -----------------------------------


def test_redaction_processor_redacts_context_fields_in_an_application_chain() -> None:
    rendered: list[str] = []

    def keep(logger: object, method_name: str, event: Any) -> str:
        rendered.append(event)
        return event

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            redaction_processor,
            structlog.processors.JSONRenderer(),
            keep,
        ],
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    try:
        with log_context(db_password=SECRET, note=f"token=ab,{SECRET}"):
            structlog.get_logger().info("app line", headers=[("X-Api-Key", SECRET)])
    finally:
        structlog.reset_defaults()
    (line,) = rendered
    _assert_hidden(line)
    assert json.loads(line)["db_password"] == REDACTED
