"""Helpers for the database tests: rows, roles switched the way PostgREST does, PostgREST bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import psycopg
from pg_support import schema_database
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


def with_user(dsn: str, user: str) -> str:
    """The same database, connecting as another login role (trust auth on the test server)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["user"] = user
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


def make_job(dsn: str, *, user_id: uuid.UUID | None = None, **values: Any) -> uuid.UUID:
    """Insert a job as the database owner and return its id."""
    row = {
        "id": uuid.uuid4(),
        "user_id": user_id or uuid.uuid4(),
        "audio_url": "https://example.com/audio/song.mp3",
        "user_prompt": "a neon city at night, slow camera moves",
        **values,
    }
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join(["%s"] * len(row))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"INSERT INTO public.jobs ({columns}) VALUES ({marks})", list(row.values()))
    return row["id"]  # type: ignore[no-any-return]


def make_stage(dsn: str, job_id: uuid.UUID, stage_name: str, **values: Any) -> uuid.UUID:
    row = {"id": uuid.uuid4(), "job_id": job_id, "stage_name": stage_name, **values}
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join(["%s"] * len(row))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO public.job_stages ({columns}) VALUES ({marks})", list(row.values())
        )
    return row["id"]  # type: ignore[no-any-return]


def fetch_one(dsn: str, query: str, params: Any = None) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row


def fetch_all(dsn: str, query: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def job_money(dsn: str, job_id: uuid.UUID) -> tuple[Decimal, Decimal, Decimal]:
    """(jobs.total_cost, jobs.reserved_cost, sum(job_costs.cost)) for one job."""
    row = fetch_one(
        dsn,
        "SELECT j.total_cost, j.reserved_cost, "
        "(SELECT coalesce(sum(c.cost), 0) FROM public.job_costs c WHERE c.job_id = j.id) AS ledger "
        "FROM public.jobs j WHERE j.id = %s",
        (job_id,),
    )
    return row["total_cost"], row["reserved_cost"], row["ledger"]


@contextmanager
def as_api_role(
    dsn: str, role: str, claims: dict[str, Any] | None = None
) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A transaction switched to ``role`` with JWT ``claims``, exactly as PostgREST does it.

    PostgREST logs in as ``authenticator`` and, per request, runs ``SET LOCAL ROLE <role>`` and
    ``set_config('request.jwt.claims', <claims json>, true)`` inside the request's transaction.
    The transaction is rolled back at the end.
    """
    with (
        psycopg.connect(with_user(dsn, "authenticator"), row_factory=dict_row) as conn,
        conn.transaction(force_rollback=True),
    ):
        conn.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
        conn.execute(
            "SELECT set_config('request.jwt.claims', %s, true)",
            (json.dumps(claims or {"role": role}),),
        )
        yield conn


def postgrest_error_body(exc: psycopg.Error) -> dict[str, Any]:
    """The JSON body PostgREST sends for a PostgreSQL error (code, details, hint, message)."""
    diag = exc.diag
    return {
        "code": exc.sqlstate,
        "details": diag.message_detail,
        "hint": diag.message_hint,
        "message": diag.message_primary,
    }


@contextmanager
def service_connection(dsn: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """An autocommit connection acting as ``service_role`` (the backend's PostgREST role)."""
    with psycopg.connect(
        with_user(dsn, "authenticator"), autocommit=True, row_factory=dict_row
    ) as conn:
        conn.execute("SET ROLE service_role")
        conn.execute(
            "SELECT set_config('request.jwt.claims', %s, false)",
            (json.dumps({"role": "service_role"}),),
        )
        yield conn


def as_url(dsn: str) -> str:
    """The DSN as a postgresql:// URL (the form DATABASE_URL takes)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    user, host, port = (
        info.get("user", "postgres"),
        info.get("host", "127.0.0.1"),
        info.get("port", 5432),
    )
    return f"postgresql://{user}@{host}:{port}/{info['dbname']}"


def settings_values(**overrides: Any) -> dict[str, Any]:
    """Valid values for every required setting (local Supabase-style keys), plus overrides."""
    return {
        "supabase_url": "http://localhost:54321",
        "supabase_service_key": "sb_secret_" + "a" * 32,
        "supabase_anon_key": "sb_publishable_" + "a" * 32,
        "redis_url": "redis://127.0.0.1:6379/0",
        "openai_api_key": "sk-" + "a" * 40,
        "replicate_api_token": "r8_" + "a" * 37,
        "jwt_secret_key": "j" * 40,
        **overrides,
    }


# -- PostgREST at the HTTP boundary ---------------------------------------------------------

SUPABASE_URL = "http://localhost:54321"
SERVICE_KEY = "service-role-key-for-tests"


class Recorder:
    """An httpx.MockTransport handler that records requests and plays queued responses.

    Each queued item is an ``httpx.Response``, an exception instance to raise (transport
    errors), or a callable taking the request.
    """

    def __init__(self, *responses: Any) -> None:
        self.requests: list[Any] = []
        self.queue: list[Any] = list(responses)
        self.default: Any = None

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        item = self.queue.pop(0) if self.queue else self.default
        if item is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            return item(request)
        return item

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def pgrst_error(status: int, code: str, message: str, details: Any = None, hint: Any = None) -> Any:
    """A PostgREST error response: JSON body {code, details, hint, message} with its status."""
    return httpx.Response(
        status,
        json={"code": code, "details": details, "hint": hint, "message": message},
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


# PostgREST's SQLSTATE -> HTTP status table, as documented in
# https://docs.postgrest.org/en/stable/references/errors.html ("HTTP Status Codes"): exact codes
# first, then two-character classes, then "PTxyz" (a custom status xyz), else 400.
PGRST_EXACT_STATUS = {
    "23503": 409,  # foreign key violation
    "23505": 409,  # uniqueness violation
    "25006": 405,  # read only sql transaction
    "53400": 500,  # config limit exceeded
    "P0001": 400,  # default code for "raise"
    "42883": 404,  # undefined function
    "42P01": 404,  # undefined table
    "42P17": 500,  # infinite recursion
}
PGRST_CLASS_STATUS = {
    "08": 503,  # pg connection err
    "09": 500,  # triggered action exception
    "0L": 403,  # invalid grantor
    "0P": 403,  # invalid role specification
    "25": 500,  # invalid transaction state
    "28": 403,  # invalid auth specification
    "2D": 500,  # invalid transaction termination
    "38": 500,  # external routine exception
    "39": 500,  # external routine invocation
    "3B": 500,  # savepoint exception
    "40": 500,  # transaction rollback
    "53": 503,  # insufficient resources
    "54": 500,  # too complex
    "55": 500,  # obj not in prerequisite state
    "57": 500,  # operator intervention
    "58": 500,  # system error
    "F0": 500,  # config file error
    "HV": 500,  # foreign data wrapper error
    "P0": 500,  # PL/pgSQL error
    "XX": 500,  # internal error
}


def pgrst_status(sqlstate: str | None, *, authenticated: bool = True) -> int:
    """The HTTP status PostgREST answers a PostgreSQL error with.

    ``42501`` (insufficient privilege) is 403 for a request with a JWT role (our service key)
    and 401 for an anonymous one.
    """
    code = sqlstate or ""
    if code in PGRST_EXACT_STATUS:
        return PGRST_EXACT_STATUS[code]
    if code == "42501":
        return 403 if authenticated else 401
    if code[:2] in PGRST_CLASS_STATUS:
        return PGRST_CLASS_STATUS[code[:2]]
    if len(code) == 5 and code.startswith("PT") and code[2:].isdigit():
        return int(code[2:])
    return 400


class RpcGateway:
    """A stand-in for PostgREST's RPC endpoint, backed by the real PostgreSQL.

    ``POST /rest/v1/rpc/<fn>`` with a JSON object body (or ``GET`` with query parameters) runs
    the function as ``service_role`` with the JSON values as its named arguments, as PostgREST
    does, and answers with the result as JSON or with PostgREST's error body and the HTTP status
    PostgREST's documented table gives for the SQLSTATE (:func:`pgrst_status`).
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: Any) -> Any:
        path = request.url.path
        assert path.startswith("/rest/v1/rpc/"), path
        assert request.headers["apikey"] == SERVICE_KEY
        assert request.headers["authorization"] == f"Bearer {SERVICE_KEY}"
        function = path.removeprefix("/rest/v1/rpc/")
        if request.method == "GET":
            params: dict[str, Any] = dict(request.url.params)
        else:
            assert request.headers["content-type"] == "application/json"
            params = json.loads(request.content or b"{}")
        self.calls.append((function, params))
        query = psycopg.sql.SQL("SELECT to_jsonb({}({}))::text").format(
            psycopg.sql.Identifier("public", function),
            psycopg.sql.SQL(", ").join(
                psycopg.sql.SQL("{} => {}").format(
                    psycopg.sql.Identifier(k), psycopg.sql.Placeholder(k)
                )
                for k in params
            ),
        )
        values = {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in params.items()}
        try:
            with service_connection(self.dsn) as conn:
                row = conn.execute(query, values).fetchone()
        except psycopg.Error as exc:
            return httpx.Response(pgrst_status(exc.sqlstate), json=postgrest_error_body(exc))
        assert row is not None
        # The body is the JSON text PostgreSQL produced (numbers as PostgreSQL writes them), as
        # PostgREST sends it: never decoded to Python floats and encoded again.
        return httpx.Response(
            200,
            content=(next(iter(row.values())) or "null").encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )


@contextmanager
def scratch_database() -> Iterator[str]:
    """A database with the shim and every shipped SQL script, for one module's read-only tests.

    Same set-up as the ``schema_database`` fixture, created once per module where the tests
    only read or roll back.
    """
    with schema_database() as dsn:
        yield dsn
