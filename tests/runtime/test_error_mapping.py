"""translate_exception maps every upstream library's exceptions, produced the way the library does.

httpx, postgrest and storage3 errors come from the real clients talking to httpx.MockTransport
(or to real local sockets); redis and psycopg errors come from the real Redis and PostgreSQL
servers, except the few server states that cannot be provoked safely on a shared server
(LOADING, NOPERM, READONLY...), which go through redis-py's own reply parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import psycopg_pool
import pytest
import redis.asyncio as aioredis
import redis.exceptions as redis_exc
from postgrest import AsyncPostgrestClient
from postgrest.exceptions import APIError
from redis._parsers.base import BaseParser
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from storage3 import AsyncStorageClient
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from runtime.error_mapping import translate_errors, translate_exception
from runtime.errors import (
    BudgetExceededError,
    CacheError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PipelineError,
    ServiceError,
    ServiceUnavailableError,
    StorageError,
    ValidationError,
)

PG_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
JOB_ID = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")
FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _mock(status: int, body: Any = None, *, headers: dict[str, str] | None = None, text: str = ""):
    def handler(request: httpx.Request) -> httpx.Response:
        if body is not None:
            return httpx.Response(status, json=body, headers=headers)
        return httpx.Response(status, text=text, headers=headers)

    return httpx.MockTransport(handler)


# ---------------------------------------------------------------------------------------------
# postgrest: the real AsyncPostgrestClient against PostgREST's real error bodies
# ---------------------------------------------------------------------------------------------


async def postgrest_error(
    status: int,
    body: Any = None,
    *,
    text: str = "",
    call: Callable[[AsyncPostgrestClient], Any] | None = None,
) -> APIError:
    async with httpx.AsyncClient(transport=_mock(status, body, text=text)) as http:
        client = AsyncPostgrestClient(
            "https://proj.supabase.co/rest/v1", http_client=http, retry_enabled=False
        )
        query = call(client) if call else client.from_("jobs").select("*")
        with pytest.raises(APIError) as info:
            await query.execute()
    return info.value


@pytest.mark.parametrize(
    ("status", "body", "expected", "retryable"),
    [
        pytest.param(
            409,
            {
                "code": "23505",
                "details": "Key (id)=(7) already exists.",
                "hint": None,
                "message": 'duplicate key value violates unique constraint "jobs_pkey"',
            },
            ConflictError,
            False,
            id="23505-unique",
        ),
        pytest.param(
            409,
            {
                "code": "23503",
                "details": 'Key (job_id)=(1) is not present in table "jobs".',
                "hint": None,
                "message": "insert or update violates foreign key constraint",
            },
            ConflictError,
            False,
            id="23503-foreign-key",
        ),
        pytest.param(
            403,
            {
                "code": "42501",
                "details": None,
                "hint": None,
                "message": "permission denied for table jobs",
            },
            PermissionDeniedError,
            False,
            id="42501-privilege",
        ),
        pytest.param(
            401,
            {
                "code": "PGRST301",
                "details": "None of the keys was able to decode the JWT",
                "hint": None,
                "message": "No suitable key or wrong key type",
            },
            PermissionDeniedError,
            False,
            id="PGRST301-jwt",
        ),
        pytest.param(
            401,
            {
                "code": "PGRST302",
                "details": None,
                "hint": None,
                "message": "Anonymous access is disabled",
            },
            PermissionDeniedError,
            False,
            id="PGRST302-anon",
        ),
        pytest.param(
            503,
            {
                "code": "PGRST000",
                "details": "connection to server at 10.0.0.5 failed: Connection refused",
                "hint": None,
                "message": "Database connection error. Retrying the connection.",
            },
            ServiceUnavailableError,
            True,
            id="PGRST000-connection",
        ),
        pytest.param(
            504,
            {
                "code": "PGRST003",
                "details": None,
                "hint": None,
                "message": "Timed out acquiring connection from connection pool.",
            },
            ServiceUnavailableError,
            True,
            id="PGRST003-pool",
        ),
        pytest.param(
            503,
            {
                "code": "08006",
                "details": None,
                "hint": None,
                "message": "connection failure",
            },
            ServiceUnavailableError,
            True,
            id="08006-connection",
        ),
        pytest.param(
            503,
            {
                "code": "57P01",
                "details": None,
                "hint": None,
                "message": "terminating connection due to administrator command",
            },
            ServiceUnavailableError,
            True,
            id="57P01-shutdown",
        ),
        pytest.param(
            500,
            {
                "code": "40001",
                "details": None,
                "hint": None,
                "message": "could not serialize access due to concurrent update",
            },
            DatabaseError,
            True,
            id="40001-serialization",
        ),
        pytest.param(
            400,
            {
                "code": "22P02",
                "details": None,
                "hint": None,
                "message": 'invalid input syntax for type uuid: "abc"',
            },
            DatabaseError,
            False,
            id="22P02-other",
        ),
    ],
)
async def test_postgrest_api_error_maps_by_code(
    status: int, body: dict[str, Any], expected: type[ServiceError], retryable: bool
) -> None:
    upstream = await postgrest_error(status, body)
    error = translate_exception(upstream, job_id=JOB_ID)
    assert type(error) is expected
    assert error.retryable is retryable
    assert isinstance(error, ServiceError)
    assert error.service == "database"
    assert error.upstream_code == body["code"]
    assert error.message == body["message"]
    assert error.job_id == JOB_ID
    assert error.__cause__ is upstream


async def test_postgrest_error_keeps_hint_and_details() -> None:
    upstream = await postgrest_error(
        400,
        {
            "code": "42883",
            "details": "No function matches the given name and argument types.",
            "hint": "You might need to add explicit type casts.",
            "message": "function public.f(text) does not exist",
        },
    )
    error = translate_exception(upstream)
    assert isinstance(error, DatabaseError)
    assert error.hint == "You might need to add explicit type casts."
    assert error.details["upstream_details"].startswith("No function matches")


async def test_postgrest_single_with_zero_rows_is_not_found() -> None:
    upstream = await postgrest_error(
        406,
        {
            "code": "PGRST116",
            "details": "The result contains 0 rows",
            "hint": None,
            "message": "Cannot coerce the result to a single JSON object",
        },
        call=lambda c: c.from_("jobs").select("*").eq("id", "x").single(),
    )
    error = translate_exception(upstream)
    assert isinstance(error, NotFoundError)
    assert error.retryable is False


async def test_postgrest_single_with_many_rows_is_a_database_error_not_not_found() -> None:
    upstream = await postgrest_error(
        406,
        {
            "code": "PGRST116",
            "details": "The result contains 2 rows",
            "hint": None,
            "message": "JSON object requested, multiple (or no) rows returned",
        },
        call=lambda c: c.from_("jobs").select("*").single(),
    )
    error = translate_exception(upstream)
    assert type(error) is DatabaseError


async def test_postgrest_budget_sqlstate_becomes_budget_exceeded() -> None:
    upstream = await postgrest_error(
        400,
        {
            "code": "VGB01",
            "details": "spent 19.50 + 1.00 > limit 20.00",
            "hint": "Raise the job's budget limit or stop generating.",
            "message": "budget exceeded for job 550e8400",
        },
        call=lambda c: c.rpc("record_cost", {"p_job_id": str(JOB_ID)}),
    )
    error = translate_exception(upstream, job_id=JOB_ID)
    assert isinstance(error, BudgetExceededError)
    assert error.retryable is False
    assert error.job_id == JOB_ID
    assert error.details == {
        "upstream_code": "VGB01",
        "hint": "Raise the job's budget limit or stop generating.",
        "upstream_details": "spent 19.50 + 1.00 > limit 20.00",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [(502, ServiceUnavailableError), (503, ServiceUnavailableError), (404, NotFoundError)],
)
async def test_postgrest_non_json_gateway_error_maps_by_http_status(
    status: int, expected: type[ServiceError]
) -> None:
    upstream = await postgrest_error(status, text="<html><body>Bad Gateway</body></html>")
    assert upstream.code == str(status)  # postgrest puts the HTTP status in ``code``
    error = translate_exception(upstream)
    assert type(error) is expected
    assert error.status_code == status


# ---------------------------------------------------------------------------------------------
# storage3: Storage answers HTTP 400 with the real status as a string in the body
# ---------------------------------------------------------------------------------------------


async def storage_error(
    http_status: int, body: Any = None, *, text: str = "", bucket_call: bool = False
) -> StorageApiError:
    async with httpx.AsyncClient(transport=_mock(http_status, body, text=text)) as http:
        client = AsyncStorageClient(
            "https://proj.supabase.co/storage/v1/", {"apikey": "k"}, http_client=http
        )
        call = client.get_bucket("audio") if bucket_call else client.from_("audio").download("a")
        with pytest.raises(StorageApiError) as info:
            await call
    return info.value


@pytest.mark.parametrize(
    ("body", "expected", "retryable"),
    [
        pytest.param(
            {"statusCode": "404", "error": "not_found", "message": "Object not found"},
            NotFoundError,
            False,
            id="404-object",
        ),
        pytest.param(
            {"statusCode": "409", "error": "Duplicate", "message": "The resource already exists"},
            ConflictError,
            False,
            id="409-duplicate",
        ),
        pytest.param(
            {
                "statusCode": "413",
                "error": "Payload too large",
                "message": "The object exceeded the maximum allowed size",
            },
            PayloadTooLargeError,
            False,
            id="413-too-large",
        ),
        pytest.param(
            {"statusCode": "403", "error": "Unauthorized", "message": "invalid signature"},
            PermissionDeniedError,
            False,
            id="403-unauthorized",
        ),
        pytest.param(
            {"statusCode": "401", "error": "Unauthorized", "message": "jwt expired"},
            PermissionDeniedError,
            False,
            id="401",
        ),
        pytest.param(
            {"statusCode": "400", "error": "InvalidJWT", "message": "jwt malformed"},
            PermissionDeniedError,
            False,
            id="InvalidJWT",
        ),
        pytest.param(
            {"statusCode": "500", "error": "internal", "message": "Internal Server Error"},
            ServiceUnavailableError,
            True,
            id="500",
        ),
        pytest.param(
            {"statusCode": "429", "error": "SlowDown", "message": "Too many requests"},
            ServiceUnavailableError,
            True,
            id="429",
        ),
        pytest.param(
            {"statusCode": "400", "error": "InvalidKey", "message": "Invalid key: a//b"},
            StorageError,
            False,
            id="400-other",
        ),
    ],
)
async def test_storage_api_error_maps_by_body_status(
    body: dict[str, str], expected: type[ServiceError], retryable: bool
) -> None:
    upstream = await storage_error(400, body)
    assert upstream.status == body["statusCode"]  # a string, as Storage sends it
    error = translate_exception(upstream, job_id=JOB_ID)
    assert type(error) is expected
    assert error.retryable is retryable
    assert isinstance(error, ServiceError)
    assert error.service == "storage"
    assert error.status_code == int(body["statusCode"])
    assert error.upstream_code == body["error"]
    assert error.message == body["message"]
    assert error.__cause__ is upstream


async def test_storage_bucket_endpoint_error_is_mapped_too() -> None:
    upstream = await storage_error(
        400,
        {"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found"},
        bucket_call=True,
    )
    assert isinstance(translate_exception(upstream), NotFoundError)


async def test_storage_unparseable_gateway_error_uses_http_status() -> None:
    upstream = await storage_error(502, text="<html>Bad Gateway</html>")
    error = translate_exception(upstream)
    assert isinstance(error, ServiceUnavailableError)
    assert error.status_code == 502


def test_plain_storage_exception_is_a_storage_error() -> None:
    error = translate_exception(StorageException("No token sent by the API"))
    assert type(error) is StorageError
    assert error.message == "No token sent by the API"
    assert error.retryable is False


# ---------------------------------------------------------------------------------------------
# httpx: real sockets and MockTransport responses
# ---------------------------------------------------------------------------------------------


async def test_httpx_connect_error_from_a_closed_port_is_unavailable() -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.get("http://127.0.0.1:1/rest/v1/jobs")
    error = translate_exception(info.value, service="database")
    assert isinstance(error, ServiceUnavailableError)
    assert error.retryable is True
    assert error.service == "database"
    assert error.upstream_code == "ConnectError"


@asynccontextmanager
async def tcp_server(reply: bytes | None) -> AsyncIterator[int]:
    """A local TCP server that answers every request with ``reply`` (or never answers)."""
    release = asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            if reply is None:
                await release.wait()  # never answer: the client times out first
            else:
                writer.write(reply)
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        release.set()
        server.close()
        await server.wait_closed()
        await asyncio.gather(*handlers, return_exceptions=True)


async def test_httpx_read_timeout_from_a_silent_server_is_unavailable() -> None:
    async with tcp_server(None) as port, httpx.AsyncClient(timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout) as info:
            await client.get(f"http://127.0.0.1:{port}/x")
    error = translate_exception(info.value)
    assert isinstance(error, ServiceUnavailableError)
    assert error.service == "http"


async def test_httpx_remote_protocol_error_from_a_garbage_reply_is_unavailable() -> None:
    async with (
        tcp_server(b"NOT HTTP AT ALL\r\n\r\n") as port,
        httpx.AsyncClient(timeout=2.0) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await client.get(f"http://127.0.0.1:{port}/x")
    assert isinstance(translate_exception(info.value), ServiceUnavailableError)


@pytest.mark.parametrize(
    "exc_type",
    [httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout, httpx.ReadError],
)
async def test_httpx_transport_errors_raised_by_a_transport_are_unavailable(
    exc_type: type[httpx.TransportError],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("transport failed", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(exc_type) as info:
            await client.get("https://api.example.test/v1")
    assert isinstance(translate_exception(info.value), ServiceUnavailableError)


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (404, NotFoundError, False),
        (401, PermissionDeniedError, False),
        (403, PermissionDeniedError, False),
        (409, ConflictError, False),
        (413, PayloadTooLargeError, False),
        (429, ServiceUnavailableError, True),
        (502, ServiceUnavailableError, True),
        (503, ServiceUnavailableError, True),
        (504, ServiceUnavailableError, True),
        (500, ServiceUnavailableError, True),
        (400, ServiceError, False),
        (501, ServiceError, False),
        (505, ServiceError, False),
    ],
)
async def test_httpx_status_error_maps_by_status(
    status: int, expected: type[ServiceError], retryable: bool
) -> None:
    async with httpx.AsyncClient(
        transport=_mock(status, {"error": "boom", "code": "E42"})
    ) as client:
        response = await client.get("https://api.example.test/v1/things")
        with pytest.raises(httpx.HTTPStatusError) as info:
            response.raise_for_status()
    error = translate_exception(info.value)
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.status_code == status
    assert error.upstream_code == "E42"
    assert "https://api.example.test/v1/things" in error.message


async def test_httpx_status_error_keeps_retry_after_and_redacts_body_and_query() -> None:
    transport = _mock(429, {"error": f"token {FAKE_JWT} rejected"}, headers={"Retry-After": "7"})
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"https://api.example.test/sign?token={FAKE_JWT}")
        with pytest.raises(httpx.HTTPStatusError) as info:
            response.raise_for_status()
    error = translate_exception(info.value)
    assert error.details["retry_after_seconds"] == 7
    assert FAKE_JWT not in json.dumps(error.to_dict())
    assert "[REDACTED]" in error.details["body"]


async def test_httpx_unsupported_protocol_is_a_non_retryable_service_error() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.UnsupportedProtocol) as info:
            await client.get("ftp://files.example.test/a")
    error = translate_exception(info.value)
    assert type(error) is ServiceError
    assert error.retryable is False


async def test_httpx_too_many_redirects_is_a_non_retryable_service_error() -> None:
    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/again"})

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(loop), follow_redirects=True, max_redirects=2
    ) as client:
        with pytest.raises(httpx.TooManyRedirects) as info:
            await client.get("https://api.example.test/start")
    assert type(translate_exception(info.value)) is ServiceError


# ---------------------------------------------------------------------------------------------
# redis: the real server, or redis-py's own reply parser for states we must not cause
# ---------------------------------------------------------------------------------------------


@pytest.fixture
async def cache() -> AsyncIterator[tuple[aioredis.Redis, str]]:
    client = aioredis.Redis.from_url(REDIS_URL, retry=Retry(NoBackoff(), 0))
    prefix = f"vg-test:errmap:{uuid.uuid4().hex}:"
    try:
        yield client, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_connection_refused_is_unavailable_for_cache() -> None:
    client = aioredis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(redis_exc.ConnectionError) as info:
            await client.ping()
    finally:
        await client.aclose()
    error = translate_exception(info.value, job_id=JOB_ID)
    assert isinstance(error, ServiceUnavailableError)
    assert error.service == "cache"
    assert error.retryable is True


async def test_redis_read_timeout_is_unavailable(cache: tuple[aioredis.Redis, str]) -> None:
    _, prefix = cache
    slow = aioredis.Redis.from_url(REDIS_URL, socket_timeout=0.05, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(redis_exc.TimeoutError) as info:
            await slow.blpop([prefix + "never"], timeout=1)
    finally:
        await slow.aclose()
    assert isinstance(translate_exception(info.value), ServiceUnavailableError)


async def test_redis_wrong_type_reply_is_a_cache_error(cache: tuple[aioredis.Redis, str]) -> None:
    client, prefix = cache
    await client.set(prefix + "k", "text")
    with pytest.raises(redis_exc.ResponseError) as info:
        await client.lpush(prefix + "k", "x")
    error = translate_exception(info.value)
    assert type(error) is CacheError
    assert error.retryable is False
    assert "WRONGTYPE" in error.message


async def test_redis_data_error_is_a_cache_error(cache: tuple[aioredis.Redis, str]) -> None:
    client, prefix = cache
    with pytest.raises(redis_exc.DataError) as info:
        await client.set(prefix + "k", {"not": "encodable"})  # type: ignore[arg-type]
    assert type(translate_exception(info.value)) is CacheError


async def test_redis_wrong_password_is_permission_denied() -> None:
    client = aioredis.Redis.from_url(
        REDIS_URL, username=f"nobody-{uuid.uuid4().hex[:8]}", password="wrong", retry=None
    )
    try:
        with pytest.raises(redis_exc.AuthenticationError) as info:
            await client.ping()
    finally:
        await client.aclose()
    error = translate_exception(info.value)
    assert isinstance(error, PermissionDeniedError)
    assert error.retryable is False


async def test_redis_lost_watch_race_is_a_retryable_conflict(
    cache: tuple[aioredis.Redis, str],
) -> None:
    client, prefix = cache
    key = prefix + "watched"
    await client.set(key, "1")
    async with client.pipeline() as pipe:
        await pipe.watch(key)
        await client.set(key, "2")  # another client changes the key
        pipe.multi()
        pipe.set(key, "3")
        with pytest.raises(redis_exc.WatchError) as info:
            await pipe.execute()
    error = translate_exception(info.value)
    assert isinstance(error, ConflictError)
    assert error.retryable is True


@pytest.mark.parametrize(
    ("reply", "upstream_type", "expected"),
    [
        (
            "LOADING Redis is loading the dataset in memory",
            redis_exc.BusyLoadingError,
            ServiceUnavailableError,
        ),
        (
            "READONLY You can't write against a read only replica.",
            redis_exc.ReadOnlyError,
            ServiceUnavailableError,
        ),
        (
            "TRYAGAIN Multiple keys request during rehashing of slot",
            redis_exc.TryAgainError,
            ServiceUnavailableError,
        ),
        ("CLUSTERDOWN The cluster is down", redis_exc.ClusterDownError, ServiceUnavailableError),
        (
            "NOPERM this user has no permissions to run the 'set' command",
            redis_exc.NoPermissionError,
            PermissionDeniedError,
        ),
        ("NOAUTH Authentication required.", redis_exc.AuthenticationError, PermissionDeniedError),
        (
            "OOM command not allowed when used memory > 'maxmemory'.",
            redis_exc.OutOfMemoryError,
            CacheError,
        ),
        ("NOSCRIPT No matching script.", redis_exc.NoScriptError, CacheError),
    ],
)
def test_redis_server_error_replies_map_by_class(
    reply: str, upstream_type: type[Exception], expected: type[ServiceError]
) -> None:
    upstream = BaseParser.parse_error(reply)
    assert type(upstream) is upstream_type
    error = translate_exception(upstream)
    assert type(error) is expected
    assert error.service == "cache"
    assert error.upstream_code == upstream_type.__name__


# ---------------------------------------------------------------------------------------------
# psycopg: errors raised by the real PostgreSQL server
# ---------------------------------------------------------------------------------------------


async def pg_error(*statements: str) -> psycopg.Error:
    async with await psycopg.AsyncConnection.connect(PG_DSN, autocommit=True) as conn:
        for statement in statements[:-1]:
            await conn.execute(statement)  # type: ignore[arg-type]
        with pytest.raises(psycopg.Error) as info:
            await conn.execute(statements[-1])  # type: ignore[arg-type]
    return info.value


async def test_psycopg_unique_violation_is_conflict() -> None:
    upstream = await pg_error(
        "CREATE TEMP TABLE t (id int PRIMARY KEY)",
        "INSERT INTO t VALUES (1)",
        "INSERT INTO t VALUES (1)",
    )
    assert isinstance(upstream, psycopg.errors.UniqueViolation)
    error = translate_exception(upstream, job_id=JOB_ID)
    assert isinstance(error, ConflictError)
    assert error.upstream_code == "23505"
    assert error.details["upstream_details"] == "Key (id)=(1) already exists."
    assert error.service == "database"


async def test_psycopg_insufficient_privilege_is_permission_denied() -> None:
    upstream = await pg_error(
        "DO $$ BEGIN RAISE EXCEPTION 'permission denied for table jobs' "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    assert isinstance(upstream, psycopg.errors.InsufficientPrivilege)
    assert isinstance(translate_exception(upstream), PermissionDeniedError)


async def test_psycopg_budget_sqlstate_is_budget_exceeded_with_hint() -> None:
    upstream = await pg_error(
        "DO $$ BEGIN RAISE EXCEPTION 'budget exceeded for job' USING ERRCODE = 'VGB01', "
        "HINT = 'raise the limit', DETAIL = 'spent 19.50 of 20.00'; END $$"
    )
    assert upstream.sqlstate == "VGB01"
    error = translate_exception(upstream, job_id=JOB_ID)
    assert isinstance(error, BudgetExceededError)
    assert error.message == "budget exceeded for job"
    assert error.details["hint"] == "raise the limit"
    assert error.details["upstream_details"] == "spent 19.50 of 20.00"


async def test_psycopg_serialization_failure_is_a_retryable_database_error() -> None:
    upstream = await pg_error(
        "DO $$ BEGIN RAISE EXCEPTION 'could not serialize' "
        "USING ERRCODE = 'serialization_failure'; END $$"
    )
    error = translate_exception(upstream)
    assert type(error) is DatabaseError
    assert error.retryable is True


async def test_psycopg_terminated_backend_is_unavailable() -> None:
    upstream = await pg_error("SELECT pg_terminate_backend(pg_backend_pid())")
    assert isinstance(upstream, psycopg.errors.AdminShutdown)
    assert isinstance(translate_exception(upstream), ServiceUnavailableError)


async def test_psycopg_statement_timeout_is_unavailable() -> None:
    upstream = await pg_error("SET statement_timeout = 20", "SELECT pg_sleep(2)")
    assert isinstance(upstream, psycopg.errors.QueryCanceled)
    assert isinstance(translate_exception(upstream), ServiceUnavailableError)


async def test_psycopg_bad_input_is_a_non_retryable_database_error() -> None:
    upstream = await pg_error("SELECT 'not-a-uuid'::uuid")
    error = translate_exception(upstream)
    assert type(error) is DatabaseError
    assert error.retryable is False
    assert error.upstream_code == "22P02"


async def test_psycopg_refused_connection_is_unavailable() -> None:
    with pytest.raises(psycopg.OperationalError) as info:
        await psycopg.AsyncConnection.connect(
            "postgresql://postgres@127.0.0.1:1/postgres", connect_timeout=2
        )
    assert info.value.sqlstate is None
    error = translate_exception(info.value)
    assert isinstance(error, ServiceUnavailableError)
    assert error.service == "database"


async def test_psycopg_pool_timeout_is_unavailable() -> None:
    pool = psycopg_pool.AsyncConnectionPool(
        PG_DSN, min_size=1, max_size=1, open=False, timeout=0.05
    )
    async with pool, pool.connection():
        with pytest.raises(psycopg_pool.PoolTimeout) as info:
            async with pool.connection():
                pass  # pragma: no cover - never reached
    assert isinstance(translate_exception(info.value), ServiceUnavailableError)


# ---------------------------------------------------------------------------------------------
# Everything else
# ---------------------------------------------------------------------------------------------


def test_pipeline_error_passes_through_unchanged_and_gains_a_missing_job_id() -> None:
    original = ValidationError("prompt too short")
    assert translate_exception(original, job_id=JOB_ID) is original
    assert original.job_id == JOB_ID
    assert original.message == "prompt too short"


def test_pipeline_error_keeps_its_own_job_id() -> None:
    other = uuid.uuid4()
    original = ValidationError("x", other)
    assert translate_exception(original, job_id=JOB_ID).job_id == other


@pytest.mark.parametrize("upstream", [TimeoutError("timed out"), ConnectionRefusedError(111, "x")])
def test_builtin_timeouts_and_connection_errors_are_unavailable(upstream: Exception) -> None:
    error = translate_exception(upstream, service="openai")
    assert isinstance(error, ServiceUnavailableError)
    assert error.service == "openai"


def test_unknown_exception_becomes_a_non_retryable_pipeline_error_with_its_type() -> None:
    upstream = KeyError("missing")
    error = translate_exception(upstream, service="composition")
    assert type(error) is PipelineError
    assert error.retryable is False
    assert error.details["upstream_type"] == "builtins.KeyError"
    assert error.__cause__ is upstream


def test_base_exceptions_are_refused() -> None:
    with pytest.raises(TypeError, match="only Exception"):
        translate_exception(asyncio.CancelledError())  # type: ignore[arg-type]


def test_messages_with_secrets_are_redacted() -> None:
    error = translate_exception(ValueError(f"bad header Bearer {FAKE_JWT}"))
    assert FAKE_JWT not in str(error)


def test_every_translated_error_serialises_to_json() -> None:
    upstream = APIError({"code": "23505", "message": "dup", "details": {"k": [1, 2]}})
    body = translate_exception(upstream).to_dict()
    assert json.loads(json.dumps(body))["code"] == "conflict"


async def test_translate_errors_context_manager_chains_the_original() -> None:
    upstream = await postgrest_error(
        409, {"code": "23505", "details": None, "hint": None, "message": "dup"}
    )
    with pytest.raises(ConflictError) as info, translate_errors(service="database", job_id=JOB_ID):
        raise upstream
    assert info.value.__cause__ is upstream
    assert info.value.job_id == JOB_ID


def test_translate_errors_lets_pipeline_errors_through_with_job_id() -> None:
    original = ValidationError("bad")
    with pytest.raises(ValidationError) as info, translate_errors(job_id=JOB_ID):
        raise original
    assert info.value is original
    assert original.job_id == JOB_ID


def test_translate_errors_does_nothing_when_the_block_succeeds() -> None:
    with translate_errors(service="cache"):
        value = 1 + 1
    assert value == 2


async def test_httpx_status_error_of_an_unread_streamed_body_keeps_no_body_or_code() -> None:
    body = b'{"code": "E42"}'
    reply = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    reply += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    async with (
        tcp_server(reply) as port,
        httpx.AsyncClient(timeout=2.0) as client,
        client.stream("GET", f"http://127.0.0.1:{port}/v1/stream") as response,
    ):
        with pytest.raises(httpx.HTTPStatusError) as info:
            response.raise_for_status()
        error = translate_exception(info.value)
    assert type(error) is ServiceUnavailableError
    assert error.upstream_code is None  # the body was never read: nothing is guessed
    assert "body" not in error.details


async def test_httpx_status_error_with_a_non_json_body_has_no_upstream_code() -> None:
    async with httpx.AsyncClient(transport=_mock(502, text="<html>bad gateway</html>")) as client:
        response = await client.get("https://api.example.test/v1/things")
        with pytest.raises(httpx.HTTPStatusError) as info:
            response.raise_for_status()
    error = translate_exception(info.value)
    assert error.upstream_code is None
    assert error.details["body"] == "<html>bad gateway</html>"


def test_httpx_error_without_a_request_names_no_url() -> None:
    error = translate_exception(httpx.InvalidURL("no scheme in this url"))
    assert type(error) is ServiceError
    assert error.message == "InvalidURL: no scheme in this url"
    assert error.retryable is False
