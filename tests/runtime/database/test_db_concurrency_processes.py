"""Several worker processes reserve, settle and record costs on one job at the same time.

Each worker is a separate Python process (its own event loop, pool and connections) running the
real runtime.cost_tracking code against the real PostgreSQL. The proof: the job never goes past
its limit (also watched while the workers run), every accepted reservation is in the ledger
exactly once, and sum(job_costs) equals jobs.total_cost afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from decimal import Decimal

import psycopg
import pytest
from db_support import fetch_all, job_money, make_job

WORKERS = 6
CALLS_PER_WORKER = 40
LIMIT = Decimal("20.00")

WORKER = r"""
import asyncio, json, sys
from decimal import Decimal
from uuid import UUID

from runtime.cost_tracking import CostTracker
from runtime.errors import BudgetExceededError
from runtime.postgres import PostgresDatabase, PostgresOptions

dsn, budget_job, ledger_job, worker, calls, limit, connections = sys.argv[1:8]
worker, calls, connections = int(worker), int(calls), int(connections)
AMOUNTS = [Decimal("0.35"), Decimal("0.415"), Decimal("0.5"), Decimal("0.123456"), Decimal("1.05")]


async def main() -> None:
    options = PostgresOptions(
        dsn=dsn,
        max_connections=connections,
        min_connections=connections,
        call_deadline_seconds=30.0,
    )
    async with PostgresDatabase(options=options) as db:
        await db.call_function("health")
        print("ready", flush=True)
        sys.stdin.readline()

        async def reserve_one(i: int) -> dict | None:
            tracker = CostTracker(db, budget_limit=Decimal(limit))  # one per task: no local lock
            amount = AMOUNTS[(worker + i) % len(AMOUNTS)]
            try:
                hold = await tracker.reserve(
                    UUID(budget_job), "video_generation", "svd", amount,
                    idempotency_key=f"w{worker}-r{i}",
                )
            except BudgetExceededError:
                return None
            if i % 7 == 3:
                await tracker.release(hold)
                return {"id": str(hold.reservation_id), "cost": None}
            actual = (amount * Decimal("0.9")).quantize(Decimal("0.000001"))
            settled = await tracker.settle(hold, actual)
            return {"id": str(settled.reservation_id), "cost": str(actual)}

        async def record_one(i: int) -> str:
            tracker = CostTracker(db)
            cost = AMOUNTS[i % len(AMOUNTS)]
            key = f"w{worker}-c{i}"
            job = UUID(ledger_job)
            await tracker.track_cost(job, "scene_planning", "gpt-4o", cost, idempotency_key=key)
            again = await tracker.track_cost(
                job, "scene_planning", "gpt-4o", cost, idempotency_key=key
            )
            assert again.recorded is False
            return str(cost)

        reserved = await asyncio.gather(*(reserve_one(i) for i in range(calls)))
        recorded = await asyncio.gather(*(record_one(i) for i in range(calls)))
        print(json.dumps({
            "accepted": [r for r in reserved if r is not None],
            "refused": sum(r is None for r in reserved),
            "recorded": recorded,
        }), flush=True)


asyncio.run(main())
"""


class Watcher(threading.Thread):
    """Polls the job while the workers run and keeps the largest spend + holds seen."""

    def __init__(self, dsn: str, job: object) -> None:
        super().__init__(daemon=True)
        self.dsn, self.job = dsn, job
        self.highest = Decimal(0)
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(
                    "SELECT total_cost + reserved_cost FROM public.jobs WHERE id = %s", (self.job,)
                ).fetchone()
                assert row is not None
                self.highest = max(self.highest, row[0])
                self.samples += 1
                time.sleep(0.002)


def run_race(
    check_dsn: str,
    *,
    worker_dsn: str | None = None,
    workers: int = WORKERS,
    calls: int = CALLS_PER_WORKER,
    connections: int = 4,
) -> None:
    """Race ``workers`` processes (``connections`` clients each) on one job's budget; check it.

    Args:
        check_dsn: Where the jobs are made and the outcome is read (the database itself).
        worker_dsn: Where the workers connect (the database, or a pooler in front of it).
        workers: Worker processes.
        calls: Reservations and spends per worker.
        connections: Connections (clients) each worker opens.
    """
    schema_database = check_dsn
    budget_job = make_job(schema_database)
    ledger_job = make_job(schema_database)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                worker_dsn or check_dsn,
                str(budget_job),
                str(ledger_job),
                str(n),
                str(calls),
                str(LIMIT),
                str(connections),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    watcher = Watcher(schema_database, budget_job)
    try:
        for proc in processes:  # every worker connected before any starts spending
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        watcher.start()
        for proc in processes:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=120) for proc in processes]
    finally:
        watcher.stop.set()
        for proc in processes:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    watcher.join(timeout=10)

    for proc, (_, err) in zip(processes, outputs, strict=True):
        assert proc.returncode == 0, err
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    accepted = [item for report in reports for item in report["accepted"]]
    settled = [item for item in accepted if item["cost"] is not None]

    # The limit held while the workers ran and afterwards, and the budget was really contested.
    assert watcher.samples > 0
    assert watcher.highest <= LIMIT
    assert sum(report["refused"] for report in reports) > 0
    total, reserved, ledger = job_money(schema_database, budget_job)
    assert reserved == 0
    assert total == ledger
    assert total == sum(Decimal(item["cost"]) for item in settled)
    assert total <= LIMIT

    # Every accepted-and-settled reservation is in the ledger exactly once, and nothing else is.
    rows = fetch_all(
        schema_database,
        "SELECT idempotency_key FROM public.job_costs WHERE job_id = %s",
        (budget_job,),
    )
    assert sorted(r["idempotency_key"] for r in rows) == sorted(
        f"reservation:{item['id']}" for item in settled
    )

    # Concurrent track_cost calls, each repeated with its key: charged exactly once each.
    recorded = [Decimal(c) for report in reports for c in report["recorded"]]
    total, reserved, ledger = job_money(schema_database, ledger_job)
    assert len(recorded) == workers * calls
    assert total == ledger == sum(recorded)


@pytest.mark.slow
def test_worker_processes_never_overspend_and_ledger_matches(schema_database: str) -> None:
    run_race(schema_database)
