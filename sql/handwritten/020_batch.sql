-- Hand-written SQL (not generated): atomic write batches for runtime.database's db.transaction().
--
--   apply_batch(p_operations jsonb) -> jsonb
--
-- p_operations is a JSON array (at most 1000 items) of operations applied in order, in the one
-- transaction of the function call: all of them commit or none do.
--
--   {"op": "insert", "table": "jobs",       "values": {"id": "...", "user_id": "...", ...}}
--   {"op": "upsert", "table": "job_stages", "values": {"job_id": "...", "stage_name": "...", ...}}
--   {"op": "update", "table": "jobs",       "values": {"status": "processing"}, "match": {"id": "..."}}
--   {"op": "delete", "table": "job_stages", "match": {"job_id": "...", "stage_name": "..."}}
--
-- Tables, columns, match columns and operations are checked against an allow-list,
-- public._vg_batch_allow_list(), generated from the schemas (x-table.batch, x-sql.batch) into
-- sql/generated/schema_batch_allow_list.sql; money columns (jobs.total_cost, jobs.reserved_cost,
-- job_stages.cost) and the cost tables (job_costs, cost_reservations) are not writable here,
-- because only the cost functions keep sum(job_costs) = jobs.total_cost true. Identifiers are
-- quoted with format('%I') after the allow-list check; values are never spliced into SQL text:
-- they are bound as one jsonb parameter and typed by jsonb_populate_record. "match" is a
-- conjunction of equalities with non-null values; update and delete require one. An upsert
-- conflicts on the table's natural key (jobs: id; job_stages: job_id, stage_name).
--
-- Returns a JSON array with one object per operation: {"op", "table", "count", "rows"}, where
-- rows are the affected rows as JSON objects. Every numeric column (the money columns
-- jobs.total_cost, jobs.reserved_cost, job_stages.cost) is a decimal string such as "0.060000",
-- never a JSON number, so clients read it into Decimal exactly, as the generated models require.
--
-- Error codes: 22023 for a malformed or disallowed operation (the message names the operation's
-- position and the offending table, column or key); constraint violations keep PostgreSQL's own
-- codes (23505 duplicate, 23503 missing foreign key, 23514 check, 22P02 bad value).

-- Raise 22023 for operation number p_index.
CREATE OR REPLACE FUNCTION public._vg_batch_fail(p_index integer, p_message text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = '22023',
        MESSAGE = format('batch operation %s: %s', p_index, p_message);
END
$fn$;

-- The keys of p_object, sorted, after checking each one is in p_allowed.
CREATE OR REPLACE FUNCTION public._vg_batch_columns(
    p_index integer,
    p_object jsonb,
    p_allowed jsonb,
    p_what text,
    p_table text
)
RETURNS text[]
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cols text[];
    v_col text;
BEGIN
    IF p_object IS NULL OR jsonb_typeof(p_object) <> 'object' OR p_object = '{}'::jsonb THEN
        PERFORM public._vg_batch_fail(p_index, format('"%s" must be a non-empty JSON object', p_what));
    END IF;
    SELECT array_agg(k ORDER BY k) INTO v_cols FROM jsonb_object_keys(p_object) AS k;
    FOREACH v_col IN ARRAY v_cols LOOP
        IF NOT p_allowed ? v_col THEN
            PERFORM public._vg_batch_fail(p_index, format(
                'column %s is not allowed in "%s" for table %s (allowed: %s)',
                quote_ident(v_col), p_what, p_table,
                (SELECT string_agg(a, ', ') FROM jsonb_array_elements_text(p_allowed) AS a)));
        END IF;
    END LOOP;
    RETURN v_cols;
END
$fn$;

CREATE OR REPLACE FUNCTION public.apply_batch(p_operations jsonb)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_allow constant jsonb := public._vg_batch_allow_list();
    v_op jsonb;
    v_index integer := 0;
    v_kind text;
    v_table text;
    v_spec jsonb;
    v_values jsonb;
    v_match jsonb;
    v_cols text[];
    v_match_cols text[];
    v_update_cols text[];
    v_key text;
    v_sql text;
    v_rows jsonb;
    v_money text;
    v_results jsonb := '[]'::jsonb;
BEGIN
    IF p_operations IS NULL OR jsonb_typeof(p_operations) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'operations must be a JSON array';
    END IF;
    IF jsonb_array_length(p_operations) > 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = '22023',
            MESSAGE = format(
                'a batch holds at most 1000 operations, got %s', jsonb_array_length(p_operations));
    END IF;

    FOR v_op IN SELECT e.value FROM jsonb_array_elements(p_operations) AS e LOOP
        v_index := v_index + 1;
        IF jsonb_typeof(v_op) <> 'object' THEN
            PERFORM public._vg_batch_fail(v_index, 'each operation must be a JSON object');
        END IF;
        FOR v_key IN SELECT k FROM jsonb_object_keys(v_op) AS k LOOP
            IF v_key NOT IN ('op', 'table', 'values', 'match') THEN
                PERFORM public._vg_batch_fail(v_index, format('unknown key %s', quote_ident(v_key)));
            END IF;
        END LOOP;
        v_kind := v_op ->> 'op';
        v_table := v_op ->> 'table';
        v_spec := v_allow -> v_table;
        IF v_table IS NULL OR v_spec IS NULL THEN
            PERFORM public._vg_batch_fail(v_index, format(
                'table %s is not allowed in batches (allowed: %s)',
                coalesce(quote_ident(v_table), 'null'),
                (SELECT string_agg(k, ', ') FROM jsonb_object_keys(v_allow) AS k)));
        END IF;
        v_values := v_op -> 'values';
        v_match := v_op -> 'match';

        IF v_kind IN ('insert', 'upsert') THEN
            IF v_match IS NOT NULL THEN
                PERFORM public._vg_batch_fail(v_index, format('%s takes no "match"', v_kind));
            END IF;
            v_cols := public._vg_batch_columns(v_index, v_values, v_spec -> 'insert', 'values', v_table);
            v_sql := format(
                'INSERT INTO public.%I AS t (%s) SELECT %s FROM jsonb_populate_record(NULL::public.%I, $1) AS r',
                v_table,
                (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_cols) AS c),
                (SELECT string_agg(format('r.%I', c), ', ') FROM unnest(v_cols) AS c),
                v_table);
            IF v_kind = 'upsert' THEN
                IF NOT v_values ?& ARRAY(SELECT jsonb_array_elements_text(v_spec -> 'conflict')) THEN
                    PERFORM public._vg_batch_fail(v_index, format(
                        'upsert on %s needs the conflict columns %s in "values"',
                        v_table, v_spec -> 'conflict'));
                END IF;
                SELECT array_agg(c ORDER BY c) INTO v_update_cols
                FROM unnest(v_cols) AS c
                WHERE (v_spec -> 'update') ? c;
                v_sql := v_sql || format(
                    ' ON CONFLICT (%s) ',
                    (SELECT string_agg(format('%I', c), ', ')
                     FROM jsonb_array_elements_text(v_spec -> 'conflict') AS c));
                IF v_update_cols IS NULL THEN
                    v_sql := v_sql || 'DO NOTHING';
                ELSE
                    v_sql := v_sql || 'DO UPDATE SET ' || (
                        SELECT string_agg(format('%I = EXCLUDED.%I', c, c), ', ')
                        FROM unnest(v_update_cols) AS c);
                END IF;
            END IF;
        ELSIF v_kind IN ('update', 'delete') THEN
            v_match_cols := public._vg_batch_columns(v_index, v_match, v_spec -> 'match', 'match', v_table);
            FOREACH v_key IN ARRAY v_match_cols LOOP
                IF jsonb_typeof(v_match -> v_key) = 'null' THEN
                    PERFORM public._vg_batch_fail(v_index, format(
                        'match value for %s must not be null', quote_ident(v_key)));
                END IF;
            END LOOP;
            IF v_kind = 'update' THEN
                v_cols := public._vg_batch_columns(v_index, v_values, v_spec -> 'update', 'values', v_table);
                v_sql := format(
                    'UPDATE public.%I AS t SET %s FROM jsonb_populate_record(NULL::public.%I, $1) AS r, '
                    'jsonb_populate_record(NULL::public.%I, $2) AS m WHERE %s',
                    v_table,
                    (SELECT string_agg(format('%I = r.%I', c, c), ', ') FROM unnest(v_cols) AS c),
                    v_table,
                    v_table,
                    (SELECT string_agg(format('t.%I = m.%I', c, c), ' AND ') FROM unnest(v_match_cols) AS c));
            ELSE
                IF v_values IS NOT NULL THEN
                    PERFORM public._vg_batch_fail(v_index, 'delete takes no "values"');
                END IF;
                v_sql := format(
                    'DELETE FROM public.%I AS t USING jsonb_populate_record(NULL::public.%I, $2) AS m WHERE %s',
                    v_table,
                    v_table,
                    (SELECT string_agg(format('t.%I = m.%I', c, c), ' AND ') FROM unnest(v_match_cols) AS c));
            END IF;
        ELSE
            PERFORM public._vg_batch_fail(v_index, format(
                'op must be one of insert, upsert, update, delete; got %s',
                coalesce(quote_literal(v_kind), 'null')));
        END IF;

        -- Money goes back exactly: every numeric column of the table (total_cost,
        -- reserved_cost, cost...) replaces its JSON number with the decimal string.
        SELECT string_agg(
                   format(' || jsonb_build_object(%L, w.%I::text)', a.attname, a.attname),
                   '' ORDER BY a.attnum)
        INTO v_money
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = format('public.%I', v_table)::regclass
          AND a.attnum > 0
          AND NOT a.attisdropped
          AND a.atttypid = 'pg_catalog.numeric'::regtype;
        v_sql := 'WITH w AS (' || v_sql || ' RETURNING t.*) '
            || 'SELECT coalesce(jsonb_agg(to_jsonb(w)' || coalesce(v_money, '')
            || '), ''[]''::jsonb) FROM w';
        EXECUTE v_sql INTO v_rows USING v_values, v_match;
        v_results := v_results || jsonb_build_array(jsonb_build_object(
            'op', v_kind,
            'table', v_table,
            'count', jsonb_array_length(v_rows),
            'rows', v_rows));
    END LOOP;
    RETURN v_results;
END
$fn$;
