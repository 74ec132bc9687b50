-- Hand-written test support: a stand-in for what a Supabase project provides before our SQL runs.
--
-- * The API roles PostgREST switches to: anon, authenticated, service_role (NOLOGIN NOINHERIT;
--   service_role BYPASSRLS), and authenticator, the LOGIN role PostgREST connects as, which is a
--   member of all three (Supabase's init scripts create them the same way).
-- * The auth schema with auth.uid(), auth.role() and auth.jwt() exactly as Supabase defines them:
--   they read the request's JWT claims from the setting request.jwt.claims, which PostgREST sets
--   per transaction with set_config('request.jwt.claims', '<claims json>', true).
-- * Supabase's default privileges on schema public: every table, function and sequence created
--   there is granted to anon, authenticated and service_role. Our SQL must therefore revoke what
--   it does not want exposed; the row-level security tests prove that it does.
--
-- Roles are cluster-wide while schemas are per database, so this script is idempotent and safe to
-- run concurrently from several test databases.

DO $shim$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created by an earlier (or concurrent) run
        END;
    END LOOP;
END
$shim$;

ALTER ROLE anon NOLOGIN NOINHERIT NOBYPASSRLS;
ALTER ROLE authenticated NOLOGIN NOINHERIT NOBYPASSRLS;
ALTER ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
ALTER ROLE authenticator LOGIN NOINHERIT NOBYPASSRLS;

DO $shim$
BEGIN
    IF NOT pg_has_role('authenticator', 'anon', 'MEMBER') THEN
        GRANT anon TO authenticator;
    END IF;
    IF NOT pg_has_role('authenticator', 'authenticated', 'MEMBER') THEN
        GRANT authenticated TO authenticator;
    END IF;
    IF NOT pg_has_role('authenticator', 'service_role', 'MEMBER') THEN
        GRANT service_role TO authenticator;
    END IF;
EXCEPTION
    WHEN unique_violation OR duplicate_object THEN
        NULL;  -- a concurrent run granted the same membership
END
$shim$;

CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

-- The three functions below are Supabase's own definitions (auth schema, GoTrue migrations).
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    AS $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt() TO anon, authenticated, service_role;

-- Supabase's defaults for schema public (supabase/postgres init scripts).
GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
