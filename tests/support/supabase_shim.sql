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
-- Roles are cluster-wide while schemas are per database. Several test sessions may run this
-- script at once on the same server, each in its own database, and two sessions changing the same
-- pg_authid row (ALTER ROLE) fail with "tuple concurrently updated". So every role statement runs
-- in one DO block (one transaction) that first takes a SHARE ROW EXCLUSIVE lock on the shared
-- catalog pg_authid: a shared catalog's lock is cluster-wide (advisory locks are per database),
-- it conflicts with itself and with the ROW EXCLUSIVE lock role DDL takes, so concurrent runs
-- queue here, and the later ones find the roles as wanted and change nothing. Logins only read
-- pg_authid (ACCESS SHARE) and are not blocked.

DO $shim$
DECLARE
    r text;
BEGIN
    LOCK TABLE pg_catalog.pg_authid IN SHARE ROW EXCLUSIVE MODE;

    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;

    -- Attributes: changed only when they differ, so later runs write nothing.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon'
               AND (rolcanlogin OR rolinherit OR rolbypassrls)) THEN
        ALTER ROLE anon NOLOGIN NOINHERIT NOBYPASSRLS;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated'
               AND (rolcanlogin OR rolinherit OR rolbypassrls)) THEN
        ALTER ROLE authenticated NOLOGIN NOINHERIT NOBYPASSRLS;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role'
               AND (rolcanlogin OR rolinherit OR NOT rolbypassrls)) THEN
        ALTER ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticator'
               AND (NOT rolcanlogin OR rolinherit OR rolbypassrls)) THEN
        ALTER ROLE authenticator LOGIN NOINHERIT NOBYPASSRLS;
    END IF;

    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT pg_catalog.pg_has_role('authenticator', r, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO authenticator', r);
        END IF;
    END LOOP;
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
