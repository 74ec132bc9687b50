-- Hand-written SQL (not generated): privileges and row-level security for Supabase's API roles.
--
-- Applied after the generated DDL and the other hand-written files. Idempotent.
--
-- Roles (Supabase creates them; tests/support/supabase_shim.sql stands in for that in tests):
--   service_role   full access to every table (it also has BYPASSRLS on Supabase); the only role
--                  that may EXECUTE our functions.
--   authenticated  SELECT only, and only rows of its own jobs: jobs.user_id = auth.uid(), and the
--                  job_stages and job_costs of those jobs. No writes of any kind, no access to
--                  cost_reservations (internal bookkeeping), no EXECUTE on our functions.
--   anon           nothing.
--
-- Supabase's default privileges grant ALL on every new table and function in schema public to
-- anon and authenticated, so this file first revokes everything and then grants back only what is
-- listed above. Row-level security is enabled on every table as the second line of defence: even
-- with a stray grant, a role sees only the rows a policy allows.

DO $check$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
        OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated')
        OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        RAISE EXCEPTION USING
            ERRCODE = '42704',
            MESSAGE = 'Supabase roles anon, authenticated and service_role are missing',
            HINT = 'Run on a Supabase database, or apply tests/support/supabase_shim.sql first.';
    END IF;
END
$check$;

-- Tables -----------------------------------------------------------------------------------------

REVOKE ALL ON TABLE public.jobs, public.job_stages, public.job_costs, public.cost_reservations
    FROM PUBLIC, anon, authenticated;
GRANT ALL ON TABLE public.jobs, public.job_stages, public.job_costs, public.cost_reservations
    TO service_role;
GRANT SELECT ON TABLE public.jobs, public.job_stages, public.job_costs TO authenticated;

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.job_stages ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.job_costs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.cost_reservations ENABLE ROW LEVEL SECURITY;

-- service_role: everything (explicit, so access does not depend on BYPASSRLS alone).
DROP POLICY IF EXISTS service_role_all ON public.jobs;
CREATE POLICY service_role_all ON public.jobs
    AS PERMISSIVE FOR ALL TO service_role USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS service_role_all ON public.job_stages;
CREATE POLICY service_role_all ON public.job_stages
    AS PERMISSIVE FOR ALL TO service_role USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS service_role_all ON public.job_costs;
CREATE POLICY service_role_all ON public.job_costs
    AS PERMISSIVE FOR ALL TO service_role USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS service_role_all ON public.cost_reservations;
CREATE POLICY service_role_all ON public.cost_reservations
    AS PERMISSIVE FOR ALL TO service_role USING (true) WITH CHECK (true);

-- authenticated: read own rows only. (SELECT auth.uid()) is evaluated once per statement.
DROP POLICY IF EXISTS owner_select ON public.jobs;
CREATE POLICY owner_select ON public.jobs
    AS PERMISSIVE FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS owner_select ON public.job_stages;
CREATE POLICY owner_select ON public.job_stages
    AS PERMISSIVE FOR SELECT TO authenticated
    USING (EXISTS (
        SELECT 1 FROM public.jobs AS j
        WHERE j.id = job_stages.job_id AND j.user_id = (SELECT auth.uid())));
DROP POLICY IF EXISTS owner_select ON public.job_costs;
CREATE POLICY owner_select ON public.job_costs
    AS PERMISSIVE FOR SELECT TO authenticated
    USING (EXISTS (
        SELECT 1 FROM public.jobs AS j
        WHERE j.id = job_costs.job_id AND j.user_id = (SELECT auth.uid())));

-- Functions --------------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION
    public._vg_check_money(numeric, text),
    public._vg_check_name(text, text),
    public._vg_budget_exceeded(text, uuid, numeric, numeric, numeric, numeric, jsonb, text),
    public.record_cost(uuid, text, text, numeric, text, numeric),
    public._vg_reservation_json(public.cost_reservations, numeric, numeric, numeric, boolean),
    public._vg_reservation_replay(public.cost_reservations, text, text, numeric, numeric, text),
    public.reserve_cost(uuid, text, text, numeric, numeric, text, integer),
    public._vg_release_expired(uuid),
    public.release_expired_reservations(uuid),
    public.settle_cost(uuid, numeric, numeric),
    public.release_cost(uuid),
    public.job_cost_summary(uuid),
    public._vg_batch_allow_list(),
    public._vg_batch_fail(integer, text),
    public._vg_batch_columns(integer, jsonb, jsonb, text, text),
    public.apply_batch(jsonb),
    public.health(),
    public._vg_stage_cost_from_ledger()
    FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION
    public._vg_check_money(numeric, text),
    public._vg_check_name(text, text),
    public._vg_budget_exceeded(text, uuid, numeric, numeric, numeric, numeric, jsonb, text),
    public.record_cost(uuid, text, text, numeric, text, numeric),
    public._vg_reservation_json(public.cost_reservations, numeric, numeric, numeric, boolean),
    public._vg_reservation_replay(public.cost_reservations, text, text, numeric, numeric, text),
    public.reserve_cost(uuid, text, text, numeric, numeric, text, integer),
    public._vg_release_expired(uuid),
    public.release_expired_reservations(uuid),
    public.settle_cost(uuid, numeric, numeric),
    public.release_cost(uuid),
    public.job_cost_summary(uuid),
    public._vg_batch_allow_list(),
    public._vg_batch_fail(integer, text),
    public._vg_batch_columns(integer, jsonb, jsonb, text, text),
    public.apply_batch(jsonb),
    public.health()
    TO service_role;

-- Ask PostgREST to reload its schema cache so the functions above are callable at once (Supabase
-- also does this on DDL; without a listening PostgREST the notification is simply dropped).
NOTIFY pgrst, 'reload schema';
