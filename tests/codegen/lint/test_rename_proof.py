"""Proof that a rename declared with x-renamed-from reaches every layer, the hand-kept ones gone.

In a scratch copy of the repository, ``jobs.user_prompt`` is renamed to ``prompt`` with
``"x-renamed-from": "user_prompt"`` and regenerated. A database built from the shipped
migration chain, holding rows, receives the new migration and the re-applied functions; then the
renamed column is written through ``db.transaction()`` on both database paths: PostgREST (the
RpcGateway stand-in, running apply_batch on the real PostgreSQL as service_role) and the direct
psycopg path.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from lint_support import REPO_ROOT, codegen, load, save
from pg_support import SHIM_SQL, temporary_database
from scratch_repo import copy_repository, function_scripts, node_modules_missing

from runtime._http import new_http_client
from runtime.database import Database, DatabaseOptions
from runtime.errors import ValidationError
from runtime.postgres import PostgresDatabase, PostgresOptions

sys.path.append(str(REPO_ROOT / "tests" / "runtime" / "database"))
from db_support import SERVICE_KEY, SUPABASE_URL, RpcGateway, fetch_one

pytestmark = pytest.mark.skipif(
    node_modules_missing(), reason="ts/node_modules missing: run bash tools/ensure-node.sh"
)
OLD_ROW = uuid.UUID("11111111-2222-4333-8444-555555555555")


def _rename(root: Path) -> None:
    job = load(root, "job")
    spec = job["$defs"]["Job"]
    spec["properties"] = {
        ("prompt" if name == "user_prompt" else name): value
        for name, value in spec["properties"].items()
    }
    spec["properties"]["prompt"]["x-renamed-from"] = "user_prompt"
    spec["required"] = ["prompt" if r == "user_prompt" else r for r in spec["required"]]
    for example in spec["examples"]:
        example["prompt"] = example.pop("user_prompt")
    save(root, "job", job)


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scratch repository after the rename and ``generate``."""
    root = copy_repository(tmp_path_factory.mktemp("rename") / "repo")
    _rename(root)
    run = codegen(root, "generate")
    assert run.status == 0, run.output
    return root


def _new_migrations(root: Path) -> list[Path]:
    shipped = {p.name for p in (REPO_ROOT / "sql" / "migrations").glob("*.sql")}
    return sorted(p for p in (root / "sql" / "migrations").glob("*.sql") if p.name not in shipped)


@pytest.fixture
def migrated(renamed: Path) -> Iterator[str]:
    """A database on the shipped chain holding a job, then migrated to the renamed schema."""
    with temporary_database() as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SHIM_SQL.read_text(encoding="utf-8"))  # type: ignore[call-overload]
        for path in sorted((REPO_ROOT / "sql" / "migrations").glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[call-overload]
        for _name, text in function_scripts(REPO_ROOT):
            conn.execute(text)  # type: ignore[call-overload]
        conn.execute(
            "INSERT INTO public.jobs (id, user_id, audio_url, user_prompt) VALUES (%s, %s, %s, %s)",
            (OLD_ROW, uuid.uuid4(), "https://example.com/a.mp3", "written before the rename"),
        )
        for path in _new_migrations(renamed):
            conn.execute(path.read_text(encoding="utf-8"))  # type: ignore[call-overload]
        for _name, text in function_scripts(renamed):
            conn.execute(text)  # type: ignore[call-overload]
        yield dsn


@pytest.fixture
async def rest_db(migrated: str) -> AsyncIterator[Database]:
    client = new_http_client(transport=httpx.MockTransport(RpcGateway(migrated)))
    async with Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY), http_client=client
    ) as db:
        yield db
    await client.aclose()


@pytest.fixture
async def direct_db(migrated: str) -> AsyncIterator[PostgresDatabase]:
    async with PostgresDatabase(options=PostgresOptions(dsn=migrated, max_connections=2)) as db:
        yield db


def _new_job() -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "audio_url": "https://example.com/b.mp3",
        "prompt": "written after the rename",
    }


def test_rename_regenerates_a_migration_that_renames_the_column(renamed: Path) -> None:
    (migration,) = _new_migrations(renamed)
    assert 'RENAME COLUMN "user_prompt" TO "prompt"' in migration.read_text(encoding="utf-8")


def test_rename_regenerates_the_batch_allow_list_with_the_new_name(renamed: Path) -> None:
    text = (renamed / "sql" / "generated" / "schema_batch_allow_list.sql").read_text(
        encoding="utf-8"
    )
    assert '"prompt"' in text
    assert "user_prompt" not in text


def test_rows_written_before_the_rename_keep_their_value(migrated: str) -> None:
    row = fetch_one(migrated, "SELECT prompt FROM public.jobs WHERE id = %s", (OLD_ROW,))
    assert row["prompt"] == "written before the rename"


async def test_renamed_column_is_written_through_postgrest_transaction(
    rest_db: Database, migrated: str
) -> None:
    job = _new_job()
    async with rest_db.transaction() as tx:
        await tx.table("jobs").insert(job).execute()
        await tx.table("jobs").update({"status": "processing"}).eq("id", OLD_ROW).execute()
    row = fetch_one(migrated, "SELECT prompt FROM public.jobs WHERE id = %s", (job["id"],))
    assert row["prompt"] == "written after the rename"


async def test_renamed_column_is_written_through_direct_transaction(
    direct_db: PostgresDatabase, migrated: str
) -> None:
    job = _new_job()
    async with direct_db.transaction() as tx:
        await tx.table("jobs").insert(job).execute()
    row = fetch_one(migrated, "SELECT prompt FROM public.jobs WHERE id = %s", (job["id"],))
    assert row["prompt"] == "written after the rename"


async def test_old_column_name_is_refused_by_the_batch(direct_db: PostgresDatabase) -> None:
    job = _new_job()
    job["user_prompt"] = job.pop("prompt")
    with pytest.raises(ValidationError, match="column user_prompt is not allowed"):
        async with direct_db.transaction() as tx:
            await tx.table("jobs").insert(job).execute()
