// The README's "Consuming the contracts from TypeScript" snippet, type-checked by `tsc --strict`
// (`npm run typecheck`, run by `nox -s typescript` in CI) under the package's NodeNext settings.
// Keep the two in step: only the two package imports differ, since this file sits inside the
// package (`@videogen/contracts` -> `../src/index.js`, `@videogen/contracts/schemas/...` ->
// `../schemas/...`).
import type { Job, Money } from "../src/index.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import jobSchema from "../schemas/Job.schema.json" with { type: "json" };

const ajv = new Ajv2020({ strict: true });
addFormats.default(ajv); // ajv-formats is CommonJS: under NodeNext its plugin is `.default`
for (const keyword of ["x-sql", "x-table", "x-python-type", "x-renamed-from"]) {
  ajv.addKeyword(keyword); // our annotations; strict mode rejects unknown keywords
}
const isJob = ajv.compile<Job>(jobSchema);

export function totalCost(payload: unknown): Money {
  return isJob(payload) ? (payload.total_cost ?? "0") : "0";
}
