-- Hand-written SQL (not generated): a cheap health probe for db.health_check().
--
--   health() -> jsonb  {"status": "ok", "database_time": "...", "schema_ready": true}
--
-- It touches no table data: it reports the server's clock and whether the four tables this
-- library needs exist (a catalog lookup). "status" is "ok" only when they do. STABLE, so
-- PostgREST may serve it over GET /rest/v1/rpc/health as a read-only request.

CREATE OR REPLACE FUNCTION public.health()
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT jsonb_build_object(
        'status', CASE WHEN ready THEN 'ok' ELSE 'schema_missing' END,
        'database_time', now(),
        'schema_ready', ready)
    FROM (
        SELECT to_regclass('public.jobs') IS NOT NULL
           AND to_regclass('public.job_stages') IS NOT NULL
           AND to_regclass('public.job_costs') IS NOT NULL
           AND to_regclass('public.cost_reservations') IS NOT NULL AS ready
    ) AS probe;
$fn$;
