"""Property: a secret planted anywhere in anything that is logged never reaches an output line.

Hypothesis builds random structures (dicts with str or bytes keys, lists, tuples, dataclasses,
pydantic models, plain and slotted objects, cycles, nesting deeper than 100 levels) and plants
random secrets in them: under random secret-like names in random case and separator styles, as
registered (known) secret values, in URL credentials and query parameters, in ``name=value``
text and in exception messages. Each structure is logged through a random channel (an ``extra``
field, a ``%`` argument, a ``%(name)s`` mapping, a bound field, a ``log_context`` field, a
logged exception, the message text) and every output is searched: the console (stderr), the
rotating log file and ``capture_logs``. A fourth test plants secrets holding punctuation, spaces and
non-ASCII letters (the characters each place allows). Every search looks for each window of five
characters of a secret (holding at least four letters or digits), in its raw and JSON-escaped
forms, so a secret whose tail or middle survives a partial redaction counts as a leak.

Example counts are constants (deterministic, bounded for CI); set
``VIDEOGEN_REDACTION_EXAMPLES`` to search longer locally.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import create_model

from runtime._redaction_walk import redaction_processor
from runtime.logging import _reset_for_tests as reset_logging
from runtime.logging import configure_logging, get_logger, log_context, register_secret
from runtime.testing import capture_logs

EXAMPLES = int(os.environ.get("VIDEOGEN_REDACTION_EXAMPLES", "400"))
MAX_WRAPPERS = 6
DEEP_LEVELS = (101, 300)

SECRET_WORDS: tuple[tuple[str, ...], ...] = (
    ("password",),
    ("passwd",),
    ("secret",),
    ("client", "secret"),
    ("access", "token"),
    ("refresh", "token"),
    ("api", "key"),
    ("api", "token"),
    ("private", "key"),
    ("auth", "token"),
    ("session", "cookie"),
    ("credentials",),
    ("jwt",),
    ("authorization",),
    ("secret", "key"),
    ("signing", "key"),
    ("bearer", "token"),
    ("service", "role", "key"),
)
PREFIXES: tuple[tuple[str, ...], ...] = ((), ("db",), ("my",), ("x",), ("user",), ("upstream",))
#: Styles usable as Python identifiers (dataclass, model and slot names).
IDENTIFIER_STYLES = ("snake", "camel", "pascal", "upper_snake", "compact", "compact_upper")
#: Styles usable in ``name=value`` text and query strings.
TEXT_STYLES = (*IDENTIFIER_STYLES, "kebab", "dotted", "upper_kebab")
#: Styles only a mapping key can have.
KEY_STYLES = (*TEXT_STYLES, "spaced", "title_spaced")


def style(words: tuple[str, ...], name: str) -> str:
    """Render ``words`` in the named case and separator style."""
    join = {
        "snake": "_".join(words),
        "camel": words[0] + "".join(w.capitalize() for w in words[1:]),
        "pascal": "".join(w.capitalize() for w in words),
        "upper_snake": "_".join(words).upper(),
        "compact": "".join(words),
        "compact_upper": "".join(words).upper(),
        "kebab": "-".join(words),
        "dotted": ".".join(words),
        "upper_kebab": "-".join(w.capitalize() for w in words),
        "spaced": " ".join(words),
        "title_spaced": " ".join(w.capitalize() for w in words),
    }
    return join[name]


@st.composite
def secret_names(draw: st.DrawFn, styles: tuple[str, ...]) -> str:
    words = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(SECRET_WORDS))
    return style(words, draw(st.sampled_from(styles)))


#: Letters and digits alternate, so a secret never contains a word of the output (a key name).
secret_values = st.tuples(
    st.text(string.ascii_letters, min_size=6, max_size=12),
    st.text(string.digits, min_size=12, max_size=12),
).map(lambda pair: "Q9" + "".join(a + b for a, b in zip(pair[0], pair[1], strict=False)))


@dataclass
class Plant:
    """A value to log, and the secrets it carries."""

    value: Any
    secrets: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Secret-carrying leaves
# ---------------------------------------------------------------------------------------------


def _named_container(kind: str, name: str, secret: str) -> Any:
    if kind == "dict":
        return {"id": 7, name: secret}
    if kind == "bytes_dict":
        return {b"id": 7, name.encode(): secret}
    if kind == "dataclass":
        cls = dataclasses.make_dataclass("Creds", [("id", int), (name, str)])
        return cls(7, secret)
    if kind == "model":
        fields: dict[str, Any] = {"id": (int, ...), name: (str, ...)}
        return create_model("CredsModel", **fields)(id=7, **{name: secret})
    if kind == "object":
        obj = type("Creds", (), {})()
        setattr(obj, name, secret)
        return obj
    if kind in PAIR_KINDS:
        return PAIR_KINDS[kind](name, secret)
    slotted = type("SlottedCreds", (), {"__slots__": ("id", name)})()
    slotted.id = 7
    setattr(slotted, name, secret)
    return slotted


def _unused(*args: Any, **kwargs: Any) -> None:
    """A function for ``functools.partial`` (its repr shows the keyword arguments)."""


#: Shapes that carry a name and its value without a mapping key or attribute of that name.
PAIR_KINDS: dict[str, Callable[[str, str], Any]] = {
    "pair_tuples": lambda name, secret: [("Accept", "json"), (name, secret)],
    "pair_lists": lambda name, secret: [["Accept", "json"], [name, secret]],
    "argv": lambda name, secret: ["tool", f"--{name}", secret, "-v"],
    "name_value": lambda name, secret: [
        {"name": "HOME", "value": "/"},
        {"name": name, "value": secret},
    ],
    "key_value": lambda name, secret: {"key": name, "value": secret},
    "aws_name_value": lambda name, secret: {"Name": name, "Type": "SecureString", "Value": secret},
    "tuple_key": lambda name, secret: {("db", name): secret, ("n",): 1},
    # A repr longer than the repr bound (2000), cut before, in or after the secret.
    "long_partial": lambda name, secret: functools.partial(
        _unused, pad="A" * (1880 + len(secret) * 7 + len(name)), **{name: secret}
    ),
}
NAMED_KINDS = ("dict", "bytes_dict", "dataclass", "model", "object", "slotted", *PAIR_KINDS)
#: Kinds whose name is a Python identifier (a field, a slot, a keyword argument).
IDENTIFIER_KINDS = ("dataclass", "model", "slotted", "long_partial")


@st.composite
def named_leaves(draw: st.DrawFn) -> Plant:
    kind = draw(st.sampled_from(NAMED_KINDS))
    name = draw(secret_names(IDENTIFIER_STYLES if kind in IDENTIFIER_KINDS else KEY_STYLES))
    secret = draw(secret_values)
    return Plant(_named_container(kind, name, secret), [secret])


@st.composite
def text_leaves(draw: st.DrawFn) -> Plant:
    secret = draw(secret_values)
    kind = draw(
        st.sampled_from(
            ["registered", "query", "userinfo", "pair", "quoted_pair", "yaml", "wide", "cut_pair"]
        )
    )
    name = draw(secret_names(TEXT_STYLES))
    if kind == "registered":
        register_secret(secret)
        text = f"upstream said {secret} was wrong"
    elif kind == "query":
        text = f"GET https://api.test/v1/x?page=2&{name}={secret}&limit=5 failed"
    elif kind == "userinfo":
        scheme = draw(st.sampled_from(["https", "postgresql", "redis", "amqp"]))
        text = f"connect {scheme}://svc:{secret}@host.test:1234/db failed"
    elif kind == "pair":
        sep = draw(st.sampled_from(["=", ": ", " = ", ":"]))
        text = f"failed with {name}{sep}{secret} and more"
    elif kind == "yaml":
        text = f"config:\n  {name}:\n    {secret}\n  port: 5432"
    elif kind == "wide":
        wide_separator = draw(st.sampled_from(["\uff1a", "\uff1d"]))  # fullwidth : and =
        text = f"failed with {name}{wide_separator}{secret} here"
    elif kind == "cut_pair":  # a short value, then punctuation, then the rest of the secret
        punct = draw(st.sampled_from(",;)]}&|<>"))
        text = f"failed {name}=ab{punct}{secret} and more"
    else:
        quote = draw(st.sampled_from(["'", '"']))
        text = f"config {{{quote}{name}{quote}: {quote}{secret}{quote}, {quote}n{quote}: 1}}"
    if draw(st.booleans()):
        return Plant(RuntimeError(text), [secret])
    return Plant(text, [secret])


# ---------------------------------------------------------------------------------------------
# Wrappers
# ---------------------------------------------------------------------------------------------


@dataclass
class Box:
    """A neutral dataclass holding anything."""

    inner: Any
    label: str = "box"


class Holder:
    """A plain object holding anything."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.label = "holder"


HolderModel = create_model("HolderModel", inner=(Any, ...), label=(str, "m"))


def _deep(levels: int) -> Callable[[Any], Any]:
    def wrap(value: Any) -> Any:
        for level in range(levels):
            value = [value] if level % 2 else {"n": value}
        return value

    return wrap


def _cycle(value: Any) -> Any:
    loop: dict[str, Any] = {"payload": value}
    loop["self"] = loop
    loop["peers"] = [loop, (loop,)]
    return loop


SIMPLE_WRAPPERS: dict[str, Callable[[Any], Any]] = {
    "list": lambda v: [1, v, "x"],
    "tuple": lambda v: ("a", v),
    "set_sibling": lambda v: {"tags": {"a", "b"}, "v": v},
    "dict": lambda v: {"payload": v, "n": 1.5},
    "bytes_key_dict": lambda v: {b"payload": v},
    "dataclass": Box,
    "object": Holder,
    "model": lambda v: HolderModel(inner=v),
    "cycle": _cycle,
}


@st.composite
def wrappers(draw: st.DrawFn) -> Callable[[Any], Any]:
    names = draw(st.lists(st.sampled_from(sorted(SIMPLE_WRAPPERS)), max_size=MAX_WRAPPERS))
    chain = [SIMPLE_WRAPPERS[name] for name in names]
    if draw(st.integers(0, 4)) == 0:
        chain.insert(draw(st.integers(0, len(chain))), _deep(draw(st.integers(*DEEP_LEVELS))))

    def apply(value: Any) -> Any:
        for wrap in chain:
            value = wrap(value)
        return value

    return apply


@st.composite
def plants(draw: st.DrawFn) -> Plant:
    leaves = draw(st.lists(st.one_of(named_leaves(), text_leaves()), min_size=1, max_size=3))
    wrap = draw(wrappers())
    value = wrap([leaf.value for leaf in leaves] if len(leaves) > 1 else leaves[0].value)
    return Plant(value, [secret for leaf in leaves for secret in leaf.secrets])


# ---------------------------------------------------------------------------------------------
# Channels and outputs
# ---------------------------------------------------------------------------------------------

CHANNELS = ("extra", "percent", "percent_mapping", "bound", "context", "exception", "message")


def _emit(channel: str, value: Any) -> None:
    logger = get_logger("property")
    if channel == "extra":
        logger.warning("planted", extra={"payload": value})
    elif channel == "percent":
        logger.warning("planted %s and %r", value, value)
    elif channel == "percent_mapping":
        logger.warning("planted %(payload)s", {"payload": value})
    elif channel == "bound":
        logger.bind(payload=value).warning("planted")
    elif channel == "context":
        with log_context(payload=value):
            logger.warning("planted")
    elif channel == "exception":
        try:
            raise ValueError("planted", value)
        except ValueError:
            logger.exception("failed")
    else:
        logger.warning(f"planted {value!s}")  # the caller formatted it into the message


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("redaction") / "property.log"
    reset_logging()
    configure_logging(level="DEBUG", log_file=path, max_bytes=10 * 1024 * 1024 * 1024)
    yield path
    reset_logging()


def _outputs(log_file: Path, channel: str, value: Any) -> list[str]:
    start = log_file.stat().st_size if log_file.exists() else 0
    console = io.StringIO()
    with contextlib.redirect_stderr(console), capture_logs() as logs:
        _emit(channel, value)
    with log_file.open("rb") as handle:
        handle.seek(start)
        written = handle.read().decode("utf-8")
    return [console.getvalue(), written, *logs.lines]


#: Every window of this many characters of a secret is searched (a partly redacted secret leaks).
WINDOW = 5


def _windows(secret: str) -> set[str]:
    """The secret's raw and JSON-escaped forms, and every ``WINDOW``-character slice of them that
    holds at least four letters or digits (a slice of mostly punctuation is no evidence)."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    found = set(forms)
    for form in forms:
        for start in range(len(form) - WINDOW + 1):
            window = form[start : start + WINDOW]
            if sum(char.isalnum() for char in window) >= WINDOW - 1:
                found.add(window)
    return found


def _assert_no_secret(outputs: list[str], secrets: list[str]) -> None:
    assert all(outputs), "every output received the line"
    for output in outputs:
        for secret in secrets:
            for window in _windows(secret):
                assert window not in output, f"{window!r} of {secret!r} leaked: {output[:2000]}"


PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(plant=plants(), channel=st.sampled_from(CHANNELS))
def test_planted_secrets_never_reach_any_output(log_file: Path, plant: Plant, channel: str) -> None:
    outputs = _outputs(log_file, channel, plant.value)
    _assert_no_secret(outputs, plant.secrets)


@PROPERTY_SETTINGS
@given(
    name=secret_names(KEY_STYLES),
    secret=secret_values,
    key_kind=st.sampled_from(["str", "bytes"]),
    channel=st.sampled_from(CHANNELS),
)
def test_any_secret_name_style_is_redacted_in_a_flat_dict(
    log_file: Path, name: str, secret: str, key_kind: str, channel: str
) -> None:
    key: str | bytes = name if key_kind == "str" else name.encode()
    outputs = _outputs(log_file, channel, {key: secret, "note": "x"})
    _assert_no_secret(outputs, [secret])


@PROPERTY_SETTINGS
@given(plant=plants())
def test_the_redaction_processor_never_returns_a_planted_secret(plant: Plant) -> None:
    result = redaction_processor(None, "warning", {"event": "planted", "payload": plant.value})
    _assert_no_secret([json.dumps(result, ensure_ascii=False)], plant.secrets)


# ---------------------------------------------------------------------------------------------
# Secrets with punctuation, spaces and non-ASCII letters
# ---------------------------------------------------------------------------------------------

#: What each place lets a secret hold besides letters and digits: anything for a named field or
#: a registered value, RFC 3986 password characters in URL userinfo (``@`` and ``/`` included),
#: query-value characters in a query, no whitespace in an unquoted ``name=value`` pair, anything
#: but the quote in a quoted one. Quotes and backslashes are left out where ``%r`` or JSON would
#: escape them (the search below would then not see a leak).
PUNCTUATION = {
    "named": " !#$%&()*+,-./:;<=>?@[]^_`{|}~éß€中",
    "registered": " !#$%&()*+,-./:;<=>?@[]^_`{|}~éß€中",
    "userinfo": "-._~!$&()*+,;=:@/",
    "query": "-._~!$()*+,;:@/?=",
    "pair": "-._~!$()*+,;:@/?=<>[]{}|^`&#%éß€中",
    "quoted_pair": " -._~!$()*+,;:@/?=<>[]{}|^`éß€中",
}


@st.composite
def punctuated_secrets(draw: st.DrawFn, place: str) -> str:
    """A distinctive alphanumeric core with 1 to 4 characters of ``place``'s punctuation in it."""
    core = list(draw(secret_values))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(3, len(core) - 1))  # after the "Q9" marker and one more character
        core.insert(at, draw(st.sampled_from(PUNCTUATION[place])))
    return "".join(core)


@st.composite
def punctuated_plants(draw: st.DrawFn) -> Plant:
    place = draw(st.sampled_from(sorted(PUNCTUATION)))
    secret = draw(punctuated_secrets(place))
    name = draw(secret_names(TEXT_STYLES))
    if place == "named":
        kind = draw(st.sampled_from(NAMED_KINDS))
        styles = IDENTIFIER_STYLES if kind in IDENTIFIER_KINDS else KEY_STYLES
        return Plant(_named_container(kind, draw(secret_names(styles)), secret), [secret])
    if place == "registered":
        register_secret(secret)
        text = f"upstream said {secret} was wrong"
    elif place == "userinfo":
        text = f"connect postgresql://svc:{secret}@db.test:5432/app failed"
    elif place == "query":
        text = f"GET https://api.test/v1/x?page=2&{name}={secret}&limit=5 failed"
    elif place == "pair":
        text = f"failed with {name}={secret} and more"
    else:
        quote = draw(st.sampled_from(["'", '"']))
        text = f"config {{{quote}{name}{quote}: {quote}{secret}{quote}, {quote}n{quote}: 1}}"
    return Plant(RuntimeError(text) if draw(st.booleans()) else text, [secret])


@PROPERTY_SETTINGS
@given(plant=punctuated_plants(), wrap=wrappers(), channel=st.sampled_from(CHANNELS))
def test_secrets_with_punctuation_spaces_and_non_ascii_never_reach_any_output(
    log_file: Path, plant: Plant, wrap: Callable[[Any], Any], channel: str
) -> None:
    outputs = _outputs(log_file, channel, wrap(plant.value))
    _assert_no_secret(outputs, plant.secrets)
