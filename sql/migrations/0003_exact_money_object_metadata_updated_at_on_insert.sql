-- Migration 0003_exact_money_object_metadata_updated_at_on_insert: written by hand (a type change
-- and new CHECKs cannot be generated safely).
--
-- 1. Money columns become plain numeric with CHECKs for at most 12 integer and 6 fractional
--    digits. numeric(18,6) rounded a seventh decimal away before any CHECK could see it, so the
--    database stored 0.0000004 as 0.000000 where the schema refuses it; now it refuses it too.
--    Removing the typmod of a numeric column does not rewrite the table, and every existing value
--    (scale 6, below 10^12) satisfies the new CHECKs. Values now keep the scale they were written
--    with (3.42 reads back as 3.42, not 3.420000).
-- 2. job_stages.metadata only takes a JSON object (or SQL null). Existing rows holding another
--    JSON value are kept under {"value": ...}; a JSON null becomes SQL null.
-- 3. updated_at is set by the trigger on INSERT as well as UPDATE, whatever the client wrote.

UPDATE public."job_stages"
SET "metadata" = CASE
        WHEN jsonb_typeof("metadata") = 'null' THEN NULL
        ELSE jsonb_build_object('value', "metadata")
    END
WHERE jsonb_typeof("metadata") <> 'object';

ALTER TABLE public."jobs"
    ALTER COLUMN "total_cost" TYPE numeric,
    ALTER COLUMN "reserved_cost" TYPE numeric,
    DROP CONSTRAINT "jobs_total_cost_check",
    ADD CONSTRAINT "jobs_total_cost_check" CHECK ("total_cost" >= 0 AND "total_cost" < 1000000000000 AND scale("total_cost") <= 6),
    DROP CONSTRAINT "jobs_reserved_cost_check",
    ADD CONSTRAINT "jobs_reserved_cost_check" CHECK ("reserved_cost" >= 0 AND "reserved_cost" < 1000000000000 AND scale("reserved_cost") <= 6);

ALTER TABLE public."job_stages"
    ALTER COLUMN "cost" TYPE numeric,
    DROP CONSTRAINT "job_stages_cost_check",
    ADD CONSTRAINT "job_stages_cost_check" CHECK ("cost" >= 0 AND "cost" < 1000000000000 AND scale("cost") <= 6),
    ADD CONSTRAINT "job_stages_metadata_check" CHECK (jsonb_typeof("metadata") = 'object');

ALTER TABLE public."job_costs"
    ALTER COLUMN "cost" TYPE numeric,
    DROP CONSTRAINT "job_costs_cost_check",
    ADD CONSTRAINT "job_costs_cost_check" CHECK ("cost" >= 0 AND "cost" < 1000000000000 AND scale("cost") <= 6);

ALTER TABLE public."cost_reservations"
    ALTER COLUMN "amount" TYPE numeric,
    ALTER COLUMN "actual_cost" TYPE numeric,
    DROP CONSTRAINT "cost_reservations_amount_check",
    ADD CONSTRAINT "cost_reservations_amount_check" CHECK ("amount" >= 0 AND "amount" < 1000000000000 AND scale("amount") <= 6),
    DROP CONSTRAINT "cost_reservations_actual_cost_check",
    ADD CONSTRAINT "cost_reservations_actual_cost_check" CHECK ("actual_cost" >= 0 AND "actual_cost" < 1000000000000 AND scale("actual_cost") <= 6);

DROP TRIGGER "jobs_set_updated_at" ON public."jobs";

CREATE TRIGGER "jobs_set_updated_at"
    BEFORE INSERT OR UPDATE ON public."jobs"
    FOR EACH ROW EXECUTE FUNCTION public."jobs_set_updated_at"();

COMMENT ON COLUMN public."jobs"."updated_at" IS 'When the job row was last written: set to now() by the database on every insert and update, replacing any value the client wrote.';
