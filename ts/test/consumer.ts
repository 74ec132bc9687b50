// The README's "Consuming the contracts from TypeScript" snippet (and ts/README.md's), type-checked
// by `tsc --strict` (`npm run typecheck`, run by `nox -s typescript` in CI) under the package's
// NodeNext settings. Keep them in step: only the package import differs, since this file sits
// inside the package (`@videogen/contracts` -> `../src/index.js`). test/consumers.mjs runs the
// same calls in fresh projects against the packed tarball.
import { SCHEMAS, type Job, type JobStage, type Money } from "../src/index.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const ajv = new Ajv2020({ strict: true }); // no addKeyword: the bundles are plain 2020-12
addFormats.default(ajv); // ajv-formats is CommonJS: under NodeNext its plugin is `.default`
const isJob = ajv.compile<Job>(SCHEMAS.Job);
const isJobStage = ajv.compile<JobStage>(SCHEMAS.JobStage); // same instance: each bundle has its own $id

export function totalCost(payload: unknown): Money {
  return isJob(payload) ? (payload.total_cost ?? "0") : "0";
}

export function stageName(payload: unknown): string | undefined {
  return isJobStage(payload) ? payload.stage_name : undefined;
}
