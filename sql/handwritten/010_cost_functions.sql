-- Hand-written SQL (not generated): cost tracking functions.
--
-- Every caller (the PostgREST path through POST /rest/v1/rpc/<name>, the direct PostgreSQL path,
-- any other process or language) gets the same guarantees in one round trip, because the data
-- semantics live here. The budget rule: no function lets total_cost + reserved_cost pass a limit
-- it was given; each check is made under the job row lock, so it holds under any concurrency.
--
--   record_cost(p_job_id, p_stage_name, p_api_name, p_cost, p_idempotency_key, p_limit)
--       Record a spend that has happened: one job_costs row, jobs.total_cost += cost, and the
--       stage's job_stages.cost += cost when that stage row exists, in one transaction. A repeated
--       call with the same idempotency key returns the first result and charges nothing; the same
--       key with a different stage, api or cost raises 23505.
--       p_limit (optional): when given, a spend that would take total_cost + reserved_cost past it
--       is refused with VGB01 and nothing is recorded. When null the spend is recorded whatever
--       the total (the money is gone and the ledger must say so); the result carries total_cost
--       and reserved_cost so the caller can compare them with its limit (CostTracker.track_cost
--       flags and logs a job left over its budget).
--   reserve_cost(p_job_id, p_stage_name, p_api_name, p_amount, p_limit, p_idempotency_key)
--       Hold budget before spending: one conditional UPDATE adds the amount to
--       jobs.reserved_cost only if total_cost + reserved_cost + amount <= limit; otherwise raises
--       SQLSTATE VGB01 (budget exceeded) with the figures. Concurrent callers are serialised by
--       the row lock the UPDATE takes, and PostgreSQL re-checks the condition against the newest
--       row version, so the limit holds under any concurrency.
--       A repeated call with the same idempotency key (a retry whose first attempt committed)
--       returns that reservation, replayed, while it is still held. The same key with a different
--       amount, stage or api raises 23505. A key whose reservation is already settled or released
--       raises VGB02: nothing is held for it any more, and returning it would let the caller
--       spend without a hold. Keys are per job (the same key on another job is another hold).
--       p_hold_seconds (default 900 = 15 minutes): the hold's lifetime. A hold not settled or
--       released by its expires_at no longer counts against the budget: the next reserve_cost
--       (or record_cost with a limit) on the job releases it first, under the job row lock, and
--       release_expired_reservations() sweeps every job. Settling a hold that expired and was
--       released needs room for its actual cost again (VGB01 otherwise).
--   release_expired_reservations(p_job_id)
--       Release every expired hold (of one job, or of all jobs when p_job_id is null); returns
--       {"released": n}. Run it from a periodic job; reserve_cost also does it lazily.
--   settle_cost(p_reservation_id, p_actual_cost, p_limit)
--       Turn a hold into a spend: release the held amount, record the actual cost in job_costs
--       (idempotency key 'reservation:<id>') and jobs.total_cost. An actual cost up to the amount
--       held always settles (the hold covered it). Above it, the excess must fit:
--       total_cost + reserved_cost - amount + actual_cost <= p_limit, checked under the job row
--       lock; otherwise, or when p_limit is null, VGB01 is raised and nothing changes: the hold
--       stays in place (still counted against the budget) so the caller can settle at a cost that
--       fits, raise the limit, or release it. Repeating a settle at the same cost is a no-op.
--   release_cost(p_reservation_id)
--       Give a hold back (the work was not done). Repeating it is a no-op.
--   job_cost_summary(p_job_id)
--       total_cost, reserved_cost and the spend per stage, read consistently.
--
-- Trigger job_stages_cost_from_ledger: a new job_stages row gets the stage's spend so far (sum of
-- its job_costs rows) added to the cost it is inserted with (0 through apply_batch, which does not
-- let callers set it), so job_stages.cost equals that sum however the row and the spend are
-- ordered. It takes the job row lock first, like the functions, so it cannot miss a concurrent
-- spend.
--
-- Results are jsonb objects; money is always a decimal string (never a JSON number), so callers
-- read it into Decimal without binary floating point.
--
-- Error codes (SQLSTATE), mapped by runtime.error_mapping:
--   VGB01  budget exceeded (BudgetExceededError); DETAIL is a JSON object with the figures
--   VGB02  an idempotency key names a reservation that is no longer held: settled or released
--          (ConflictError); DETAIL is a JSON object with the reservation id and status
--   P0002  the job or reservation does not exist (NotFoundError)
--   22023  an argument is invalid: negative or more than 6 decimal places, empty name
--   23505  an idempotency key was reused with different arguments (ConflictError)
--   55000  a reservation is not in a state that allows the operation (settle after release)
--
-- All functions are SECURITY INVOKER with a fixed search_path and fully qualified names; EXECUTE
-- is granted to service_role only (090_security.sql).

-- Earlier signatures, replaced by the ones below (an optional p_limit was added). Dropped so a
-- call cannot resolve to the old function, which did not check the limit.
DROP FUNCTION IF EXISTS public.record_cost(uuid, text, text, numeric, text);
DROP FUNCTION IF EXISTS public.settle_cost(uuid, numeric);
-- reserve_cost gained p_hold_seconds (holds expire).
DROP FUNCTION IF EXISTS public.reserve_cost(uuid, text, text, numeric, numeric, text);

-- Release job p_job_id's expired holds (expires_at passed, still held); returns how many. The one
-- place that does it: when there is any, it takes the job row lock first (lock order everywhere:
-- jobs row first, then reservations; a caller that holds it already takes it again at no cost).
-- With none it returns 0 without locking.
CREATE OR REPLACE FUNCTION public._vg_release_expired(p_job_id uuid)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_count integer;
    v_amount numeric(18, 6);
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM public.cost_reservations AS r
        WHERE r.job_id = p_job_id AND r.status = 'held' AND r.expires_at <= now()
    ) THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM public.jobs AS j WHERE j.id = p_job_id FOR NO KEY UPDATE;
    WITH expired AS (
        UPDATE public.cost_reservations AS r
        SET status = 'released', settled_at = now()
        WHERE r.job_id = p_job_id AND r.status = 'held' AND r.expires_at <= now()
        RETURNING r.amount
    )
    SELECT count(*), coalesce(sum(e.amount), 0) INTO v_count, v_amount FROM expired AS e;
    IF v_count > 0 THEN
        UPDATE public.jobs AS j
        SET reserved_cost = j.reserved_cost - v_amount
        WHERE j.id = p_job_id;
    END IF;
    RETURN v_count;
END
$fn$;

CREATE OR REPLACE FUNCTION public.release_expired_reservations(p_job_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_job uuid;
    v_total integer := 0;
BEGIN
    FOR v_job IN
        SELECT DISTINCT r.job_id FROM public.cost_reservations AS r
        WHERE r.status = 'held' AND r.expires_at <= now()
          AND (p_job_id IS NULL OR r.job_id = p_job_id)
        ORDER BY r.job_id
    LOOP
        v_total := v_total + public._vg_release_expired(v_job);
    END LOOP;
    RETURN jsonb_build_object('released', v_total);
END
$fn$;

CREATE OR REPLACE FUNCTION public._vg_check_money(p_value numeric, p_name text)
RETURNS numeric(18, 6)
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s must not be null', p_name);
    END IF;
    IF p_value < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('%s must be >= 0, got %s', p_name, p_value);
    END IF;
    IF p_value <> round(p_value, 6) THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('%s has more than 6 decimal places: %s', p_name, p_value);
    END IF;
    IF p_value >= 1000000000000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('%s is out of range (numeric(18,6)): %s', p_name, p_value);
    END IF;
    RETURN p_value;
END
$fn$;

-- Validate one required name argument (stage, api): not null, not blank, at most 200 characters.
CREATE OR REPLACE FUNCTION public._vg_check_name(p_value text, p_name text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF p_value IS NULL OR btrim(p_value) = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s must not be empty', p_name);
    END IF;
    IF length(p_value) > 200 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('%s is longer than 200 characters', p_name);
    END IF;
    RETURN p_value;
END
$fn$;

-- VGB01 with the figures as a JSON DETAIL (the same keys wherever it is raised).
CREATE OR REPLACE FUNCTION public._vg_budget_exceeded(
    p_message text,
    p_job_id uuid,
    p_total numeric,
    p_reserved numeric,
    p_requested numeric,
    p_limit numeric,
    p_extra jsonb DEFAULT '{}'::jsonb,
    p_hint text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'VGB01',
        MESSAGE = p_message,
        DETAIL = (jsonb_build_object(
            'job_id', p_job_id,
            'total_cost', p_total::text,
            'reserved_cost', p_reserved::text,
            'requested', p_requested::text,
            'limit', p_limit::text) || coalesce(p_extra, '{}'::jsonb))::text,
        HINT = coalesce(
            p_hint, 'Reduce the amount, release unused reservations, or raise the job budget.');
END
$fn$;

CREATE OR REPLACE FUNCTION public.record_cost(
    p_job_id uuid,
    p_stage_name text,
    p_api_name text,
    p_cost numeric,
    p_idempotency_key text DEFAULT NULL,
    p_limit numeric DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cost numeric(18, 6) := public._vg_check_money(p_cost, 'cost');
    v_limit numeric(18, 6);
    v_existing public.job_costs%ROWTYPE;
    v_cost_id uuid;
    v_total numeric(18, 6);
    v_reserved numeric(18, 6);
BEGIN
    PERFORM public._vg_check_name(p_stage_name, 'stage_name');
    PERFORM public._vg_check_name(p_api_name, 'api_name');
    IF p_job_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'job_id must not be null';
    END IF;
    IF p_limit IS NOT NULL THEN
        v_limit := public._vg_check_money(p_limit, 'limit');
    END IF;
    IF p_idempotency_key IS NOT NULL AND btrim(p_idempotency_key) = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'idempotency_key must not be blank';
    END IF;
    IF p_idempotency_key LIKE 'reservation:%' THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = 'idempotency keys starting with "reservation:" are reserved for settle_cost';
    END IF;

    -- Lock the job row first: every writer of this job's money serialises here, which makes the
    -- idempotency check and the limit check below race-free.
    SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
    FROM public.jobs AS j WHERE j.id = p_job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'P0002',
            MESSAGE = format('job %s not found', p_job_id);
    END IF;
    IF v_limit IS NOT NULL AND public._vg_release_expired(p_job_id) > 0 THEN
        SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
        FROM public.jobs AS j WHERE j.id = p_job_id;
    END IF;

    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO v_existing
        FROM public.job_costs AS c
        WHERE c.job_id = p_job_id AND c.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            IF v_existing.cost <> v_cost
                OR v_existing.stage_name <> p_stage_name
                OR v_existing.api_name <> p_api_name THEN
                RAISE EXCEPTION USING
                    ERRCODE = '23505',
                    MESSAGE = format(
                        'idempotency key %s was already used for job %s with different arguments',
                        p_idempotency_key, p_job_id),
                    DETAIL = format(
                        'recorded: stage=%s api=%s cost=%s; this call: stage=%s api=%s cost=%s',
                        v_existing.stage_name, v_existing.api_name, v_existing.cost,
                        p_stage_name, p_api_name, v_cost);
            END IF;
            RETURN jsonb_build_object(
                'cost_id', v_existing.id,
                'job_id', p_job_id,
                'recorded', false,
                'cost', v_existing.cost::text,
                'total_cost', v_total::text,
                'reserved_cost', v_reserved::text,
                'limit', v_limit::text);
        END IF;
    END IF;

    IF v_limit IS NOT NULL AND v_total + v_reserved + v_cost > v_limit THEN
        PERFORM public._vg_budget_exceeded(
            format(
                'budget exceeded for job %s: spent %s + reserved %s + cost %s = %s > limit %s',
                p_job_id, v_total, v_reserved, v_cost, v_total + v_reserved + v_cost, v_limit),
            p_job_id, v_total, v_reserved, v_cost, v_limit);
    END IF;

    INSERT INTO public.job_costs (job_id, stage_name, api_name, cost, idempotency_key)
    VALUES (p_job_id, p_stage_name, p_api_name, v_cost, p_idempotency_key)
    RETURNING id INTO v_cost_id;

    UPDATE public.jobs AS j
    SET total_cost = j.total_cost + v_cost
    WHERE j.id = p_job_id
    RETURNING j.total_cost, j.reserved_cost INTO v_total, v_reserved;

    UPDATE public.job_stages AS s
    SET cost = s.cost + v_cost
    WHERE s.job_id = p_job_id AND s.stage_name = p_stage_name;

    RETURN jsonb_build_object(
        'cost_id', v_cost_id,
        'job_id', p_job_id,
        'recorded', true,
        'cost', v_cost::text,
        'total_cost', v_total::text,
        'reserved_cost', v_reserved::text,
        'limit', v_limit::text);
END
$fn$;

CREATE OR REPLACE FUNCTION public._vg_reservation_json(
    p_reservation public.cost_reservations,
    p_total numeric,
    p_reserved numeric,
    p_limit numeric,
    p_replayed boolean
)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT jsonb_build_object(
        'reservation_id', p_reservation.id,
        'job_id', p_reservation.job_id,
        'stage_name', p_reservation.stage_name,
        'api_name', p_reservation.api_name,
        'amount', p_reservation.amount::text,
        'status', p_reservation.status,
        'actual_cost', p_reservation.actual_cost::text,
        'expires_at', p_reservation.expires_at,
        'replayed', p_replayed,
        'total_cost', p_total::text,
        'reserved_cost', p_reserved::text,
        'limit', p_limit::text);
$fn$;

-- The answer to a reserve_cost call whose idempotency key already names reservation p_res: the
-- same reservation, replayed, if the call asks for the same thing and the hold is still in
-- place; 23505 if the arguments differ; VGB02 if the reservation was settled or released.
CREATE OR REPLACE FUNCTION public._vg_reservation_replay(
    p_res public.cost_reservations,
    p_stage_name text,
    p_api_name text,
    p_amount numeric,
    p_limit numeric,
    p_idempotency_key text
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_total numeric(18, 6);
    v_reserved numeric(18, 6);
BEGIN
    IF p_res.amount <> p_amount
        OR p_res.stage_name <> p_stage_name
        OR p_res.api_name <> p_api_name THEN
        RAISE EXCEPTION USING
            ERRCODE = '23505',
            MESSAGE = format(
                'idempotency key %s was already used for job %s with different arguments',
                p_idempotency_key, p_res.job_id),
            DETAIL = format(
                'reserved: stage=%s api=%s amount=%s; this call: stage=%s api=%s amount=%s',
                p_res.stage_name, p_res.api_name, p_res.amount,
                p_stage_name, p_api_name, p_amount);
    END IF;
    IF p_res.status <> 'held' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'VGB02',
            MESSAGE = format(
                'idempotency key %s names cost reservation %s, which is already %s: nothing is '
                'held for it any more', p_idempotency_key, p_res.id, p_res.status),
            DETAIL = jsonb_build_object(
                'job_id', p_res.job_id,
                'reservation_id', p_res.id,
                'status', p_res.status,
                'idempotency_key', p_idempotency_key)::text,
            HINT = 'Use a new idempotency key for new work.';
    END IF;
    SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
    FROM public.jobs AS j WHERE j.id = p_res.job_id;
    RETURN public._vg_reservation_json(p_res, v_total, v_reserved, p_limit, true);
END
$fn$;

CREATE OR REPLACE FUNCTION public.reserve_cost(
    p_job_id uuid,
    p_stage_name text,
    p_api_name text,
    p_amount numeric,
    p_limit numeric,
    p_idempotency_key text DEFAULT NULL,
    p_hold_seconds integer DEFAULT 900
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_amount numeric(18, 6) := public._vg_check_money(p_amount, 'amount');
    v_limit numeric(18, 6) := public._vg_check_money(p_limit, 'limit');
    v_res public.cost_reservations%ROWTYPE;
    v_total numeric(18, 6);
    v_reserved numeric(18, 6);
BEGIN
    PERFORM public._vg_check_name(p_stage_name, 'stage_name');
    PERFORM public._vg_check_name(p_api_name, 'api_name');
    IF p_job_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'job_id must not be null';
    END IF;
    IF p_idempotency_key IS NOT NULL AND btrim(p_idempotency_key) = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'idempotency_key must not be blank';
    END IF;
    IF p_hold_seconds IS NULL OR p_hold_seconds < 1 OR p_hold_seconds > 604800 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format('hold_seconds must be between 1 and 604800, got %s', p_hold_seconds);
    END IF;

    -- Expired holds of this job stop counting first (under the job row lock, which the
    -- conditional UPDATE below takes anyway).
    PERFORM public._vg_release_expired(p_job_id);

    -- A retried call whose first attempt committed: answer from that reservation, hold nothing
    -- more. FOR SHARE waits for a concurrent settle/release of it and reads its final status.
    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO v_res
        FROM public.cost_reservations AS r
        WHERE r.job_id = p_job_id AND r.idempotency_key = p_idempotency_key
        FOR SHARE;
        IF FOUND THEN
            RETURN public._vg_reservation_replay(
                v_res, p_stage_name, p_api_name, v_amount, v_limit, p_idempotency_key);
        END IF;
    END IF;

    -- The one conditional UPDATE that decides. Under READ COMMITTED a concurrent update of the
    -- same row makes this statement wait, then re-evaluate the WHERE clause on the new version.
    UPDATE public.jobs AS j
    SET reserved_cost = j.reserved_cost + v_amount
    WHERE j.id = p_job_id
      AND j.total_cost + j.reserved_cost + v_amount <= v_limit
    RETURNING j.total_cost, j.reserved_cost INTO v_total, v_reserved;

    IF NOT FOUND THEN
        IF p_idempotency_key IS NOT NULL THEN
            -- A concurrent duplicate may have committed while this call waited.
            SELECT * INTO v_res
            FROM public.cost_reservations AS r
            WHERE r.job_id = p_job_id AND r.idempotency_key = p_idempotency_key
            FOR SHARE;
            IF FOUND THEN
                RETURN public._vg_reservation_replay(
                    v_res, p_stage_name, p_api_name, v_amount, v_limit, p_idempotency_key);
            END IF;
        END IF;
        SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
        FROM public.jobs AS j WHERE j.id = p_job_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'P0002',
                MESSAGE = format('job %s not found', p_job_id);
        END IF;
        PERFORM public._vg_budget_exceeded(
            format(
                'budget exceeded for job %s: spent %s + reserved %s + requested %s = %s > limit %s',
                p_job_id, v_total, v_reserved, v_amount, v_total + v_reserved + v_amount, v_limit),
            p_job_id, v_total, v_reserved, v_amount, v_limit);
    END IF;

    -- This call holds the job row lock now, so any duplicate key committed before it is visible
    -- to this new statement snapshot, and no other duplicate can commit until this one ends.
    -- Answering from it raises when it is not a plain replay, which also undoes the UPDATE.
    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO v_res
        FROM public.cost_reservations AS r
        WHERE r.job_id = p_job_id AND r.idempotency_key = p_idempotency_key
        FOR SHARE;
        IF FOUND THEN
            UPDATE public.jobs AS j
            SET reserved_cost = j.reserved_cost - v_amount
            WHERE j.id = p_job_id;
            RETURN public._vg_reservation_replay(
                v_res, p_stage_name, p_api_name, v_amount, v_limit, p_idempotency_key);
        END IF;
    END IF;

    INSERT INTO public.cost_reservations
        (job_id, stage_name, api_name, amount, idempotency_key, expires_at)
    VALUES (p_job_id, p_stage_name, p_api_name, v_amount, p_idempotency_key,
            now() + make_interval(secs => p_hold_seconds))
    RETURNING * INTO v_res;

    RETURN public._vg_reservation_json(v_res, v_total, v_reserved, v_limit, false);
END
$fn$;

-- Settling above the amount held needs room for the excess (see the header): the check runs
-- under the job row lock, and a refusal changes nothing, so the hold stays in place.
CREATE OR REPLACE FUNCTION public.settle_cost(
    p_reservation_id uuid,
    p_actual_cost numeric,
    p_limit numeric DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_actual numeric(18, 6) := public._vg_check_money(p_actual_cost, 'actual_cost');
    v_limit numeric(18, 6);
    v_res public.cost_reservations%ROWTYPE;
    v_total numeric(18, 6);
    v_reserved numeric(18, 6);
    v_held numeric(18, 6);
BEGIN
    IF p_reservation_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'reservation_id must not be null';
    END IF;
    IF p_limit IS NOT NULL THEN
        v_limit := public._vg_check_money(p_limit, 'limit');
    END IF;
    -- Lock order everywhere: jobs row first, then the reservation. Reading the reservation's
    -- job_id without a lock is safe because it never changes.
    SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
    FROM public.jobs AS j
    WHERE j.id = (SELECT r.job_id FROM public.cost_reservations AS r WHERE r.id = p_reservation_id)
    FOR NO KEY UPDATE;
    SELECT * INTO v_res FROM public.cost_reservations AS r WHERE r.id = p_reservation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'P0002',
            MESSAGE = format('cost reservation %s not found', p_reservation_id);
    END IF;

    IF v_res.status = 'settled' THEN
        IF v_res.actual_cost <> v_actual THEN
            RAISE EXCEPTION USING
                ERRCODE = '23505',
                MESSAGE = format(
                    'cost reservation %s was already settled at %s, not %s',
                    p_reservation_id, v_res.actual_cost, v_actual);
        END IF;
        RETURN public._vg_reservation_json(v_res, v_total, v_reserved, v_limit, true);
    END IF;
    -- A hold released because it expired (not by release_cost) may still be settled: the work
    -- was done. It holds nothing any more, so its whole actual cost must fit the limit.
    IF v_res.status = 'released' AND v_res.actual_cost IS NULL
        AND v_res.settled_at >= v_res.expires_at THEN
        v_held := 0;
    ELSIF v_res.status <> 'held' THEN
        RAISE EXCEPTION USING
            ERRCODE = '55000',
            MESSAGE = format(
                'cost reservation %s is %s and cannot be settled', p_reservation_id, v_res.status);
    ELSE
        v_held := v_res.amount;
    END IF;

    IF v_actual > v_held
        AND (v_limit IS NULL OR v_total + v_reserved - v_held + v_actual > v_limit) THEN
        PERFORM public._vg_budget_exceeded(
            CASE WHEN v_limit IS NULL THEN format(
                'cost reservation %s holds %s; settling it at %s needs a limit to check the '
                'excess against, and none was given', p_reservation_id, v_res.amount, v_actual)
            ELSE format(
                'budget exceeded for job %s: settling reservation %s at %s (held %s) makes spent '
                '%s + reserved %s = %s > limit %s', v_res.job_id, p_reservation_id, v_actual,
                v_held, v_total + v_actual, v_reserved - v_held,
                v_total + v_reserved - v_held + v_actual, v_limit)
            END,
            v_res.job_id, v_total, v_reserved, v_actual, v_limit,
            jsonb_build_object(
                'reservation_id', v_res.id,
                'held', v_held::text,
                'actual_cost', v_actual::text),
            'The hold is still in place: settle at a cost that fits the budget, raise the limit, '
            'or release it.');
    END IF;

    UPDATE public.cost_reservations AS r
    SET status = 'settled', actual_cost = v_actual, settled_at = now()
    WHERE r.id = p_reservation_id
    RETURNING * INTO v_res;

    INSERT INTO public.job_costs (job_id, stage_name, api_name, cost, idempotency_key)
    VALUES (v_res.job_id, v_res.stage_name, v_res.api_name, v_actual,
            'reservation:' || v_res.id::text);

    UPDATE public.jobs AS j
    SET reserved_cost = j.reserved_cost - v_held,
        total_cost = j.total_cost + v_actual
    WHERE j.id = v_res.job_id
    RETURNING j.total_cost, j.reserved_cost INTO v_total, v_reserved;

    UPDATE public.job_stages AS s
    SET cost = s.cost + v_actual
    WHERE s.job_id = v_res.job_id AND s.stage_name = v_res.stage_name;

    RETURN public._vg_reservation_json(v_res, v_total, v_reserved, v_limit, false);
END
$fn$;

CREATE OR REPLACE FUNCTION public.release_cost(p_reservation_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_res public.cost_reservations%ROWTYPE;
    v_total numeric(18, 6);
    v_reserved numeric(18, 6);
BEGIN
    IF p_reservation_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'reservation_id must not be null';
    END IF;
    PERFORM 1 FROM public.jobs AS j
    WHERE j.id = (SELECT r.job_id FROM public.cost_reservations AS r WHERE r.id = p_reservation_id)
    FOR NO KEY UPDATE;
    SELECT * INTO v_res FROM public.cost_reservations AS r WHERE r.id = p_reservation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'P0002',
            MESSAGE = format('cost reservation %s not found', p_reservation_id);
    END IF;

    IF v_res.status = 'released' THEN
        SELECT j.total_cost, j.reserved_cost INTO v_total, v_reserved
        FROM public.jobs AS j WHERE j.id = v_res.job_id;
        RETURN public._vg_reservation_json(v_res, v_total, v_reserved, NULL, true);
    END IF;
    IF v_res.status <> 'held' THEN
        RAISE EXCEPTION USING
            ERRCODE = '55000',
            MESSAGE = format(
                'cost reservation %s is %s and cannot be released', p_reservation_id, v_res.status);
    END IF;

    UPDATE public.cost_reservations AS r
    SET status = 'released', settled_at = now()
    WHERE r.id = p_reservation_id
    RETURNING * INTO v_res;

    UPDATE public.jobs AS j
    SET reserved_cost = j.reserved_cost - v_res.amount
    WHERE j.id = v_res.job_id
    RETURNING j.total_cost, j.reserved_cost INTO v_total, v_reserved;

    RETURN public._vg_reservation_json(v_res, v_total, v_reserved, NULL, false);
END
$fn$;

CREATE OR REPLACE FUNCTION public.job_cost_summary(p_job_id uuid)
RETURNS jsonb
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_job record;
    v_by_stage jsonb;
BEGIN
    -- Holds whose lifetime has passed no longer count, even before a reserve or the sweep
    -- releases them (this function is read-only: it subtracts them, it does not release them).
    SELECT j.total_cost,
           j.reserved_cost - coalesce(
               (SELECT sum(r.amount) FROM public.cost_reservations AS r
                WHERE r.job_id = j.id AND r.status = 'held' AND r.expires_at <= now()), 0)
               AS reserved_cost
    INTO v_job FROM public.jobs AS j WHERE j.id = p_job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'P0002',
            MESSAGE = format('job %s not found', p_job_id);
    END IF;
    SELECT coalesce(jsonb_object_agg(t.stage_name, t.spent::text), '{}'::jsonb) INTO v_by_stage
    FROM (
        SELECT c.stage_name, sum(c.cost) AS spent
        FROM public.job_costs AS c
        WHERE c.job_id = p_job_id
        GROUP BY c.stage_name
    ) AS t;
    RETURN jsonb_build_object(
        'job_id', p_job_id,
        'total_cost', v_job.total_cost::text,
        'reserved_cost', v_job.reserved_cost::text,
        'by_stage', v_by_stage);
END
$fn$;

CREATE OR REPLACE FUNCTION public._vg_stage_cost_from_ledger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM 1 FROM public.jobs AS j WHERE j.id = NEW.job_id FOR NO KEY UPDATE;
    NEW.cost := NEW.cost + coalesce(
        (SELECT sum(c.cost) FROM public.job_costs AS c
         WHERE c.job_id = NEW.job_id AND c.stage_name = NEW.stage_name),
        0);
    RETURN NEW;
END
$fn$;

DROP TRIGGER IF EXISTS job_stages_cost_from_ledger ON public.job_stages;
CREATE TRIGGER job_stages_cost_from_ledger
    BEFORE INSERT ON public.job_stages
    FOR EACH ROW EXECUTE FUNCTION public._vg_stage_cost_from_ledger();
