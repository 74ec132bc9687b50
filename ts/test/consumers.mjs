// The npm package as consumers use it (`npm run test:consumers`, run by `nox -s typescript` in CI).
//
// Packs the package with `npm pack` (which runs the `prepack` build), checks what the tarball
// holds, then installs the tarball into three fresh projects in a temporary directory, each with
// typescript, ajv and ajv-formats from the npm registry (the versions ts/package.json pins):
//   nodenext  ES module, `module`/`moduleResolution: nodenext`;
//   bundler   ES module, `moduleResolution: bundler` (`module: preserve`), run by Node as ESM;
//   node16    CommonJS, `module: node16` (no "type": "module"), so `import` compiles to require.
// Each project compiles a program with `tsc --strict` (our declarations type-checked too:
// skipLibCheck off) and runs it. The program loads every bundle (`SCHEMAS`) into ONE strict Ajv
// 2020 instance with ajv-formats and nothing else, validates every example shipped in the
// bundles against `<bundle $id>#/$defs/<definition>`, refuses two invalid Jobs (a status outside
// the enum, a created_at that is no date-time) at the right JSON pointer, checks that every
// schema file (the `./schemas/*` subpath, by the path CONTRACTS gives) equals its SCHEMAS entry,
// that the package.json export loads, and that a type error is one (`@ts-expect-error`). This script then compares the program's report with what it counts in
// ts/schemas itself, and checks which build (dist/esm or dist/cjs) Node resolves for the project.
//
// Before the projects, arethetypeswrong (pinned in ts/package.json) checks the tarball's types
// for every resolution mode.
//
// Usage: node test/consumers.mjs [--keep] (keep the temporary directory for a look).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TS = join(dirname(fileURLToPath(import.meta.url)), "..");
const KEEP = process.argv.includes("--keep");
/** Bound on every npm / tsc / node child process (ms); a warm npm cache needs a few seconds. */
const STEP_TIMEOUT_MS = 180_000;
const PACKAGE = "@videogen/contracts";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 10)) {
  // Import attributes (`with { type: "json" }`), which the ESM programs use for the JSON files.
  throw new Error(`the consumer tests need Node >= 20.10, this is ${process.versions.node}`);
}

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      timeout: STEP_TIMEOUT_MS,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
  } catch (error) {
    throw new Error(
      `${command} ${args.join(" ")} failed in ${cwd}:\n${error.stdout ?? ""}${error.stderr ?? ""}`,
      { cause: error },
    );
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function timed(label, action) {
  const start = performance.now();
  const result = action();
  const seconds = (performance.now() - start) / 1000;
  console.log(`  ${label}: ${seconds.toFixed(1)} s`);
  return result;
}

// ---- what the package should hold, counted independently from ts/schemas and package.json ----

const manifest = JSON.parse(readFileSync(join(TS, "package.json"), "utf8"));
const bundleFiles = readdirSync(join(TS, "schemas")).filter((f) => f.endsWith(".schema.json"));
let exampleCount = 0;
for (const file of bundleFiles) {
  const bundle = JSON.parse(readFileSync(join(TS, "schemas", file), "utf8"));
  for (const definition of Object.values(bundle.$defs)) {
    exampleCount += Array.isArray(definition.examples) ? definition.examples.length : 0;
  }
}
const REQUIRED_FILES = [
  "package.json",
  "README.md",
  "LICENSE",
  "dist/cjs/package.json",
  ...["esm", "cjs"].flatMap((dir) =>
    ["index", "contracts", "schemas"].flatMap((m) => [`dist/${dir}/${m}.js`, `dist/${dir}/${m}.d.ts`]),
  ),
  ...bundleFiles.map((f) => `schemas/${f}`),
];

function checkTarball(info) {
  const paths = info.files.map((f) => f.path).sort();
  const missing = REQUIRED_FILES.filter((p) => !paths.includes(p));
  check(missing.length === 0, `tarball lacks ${missing.join(", ")}`);
  const extra = paths.filter((p) => !REQUIRED_FILES.includes(p));
  check(extra.length === 0, `tarball holds unexpected files: ${extra.join(", ")}`);
  const cjs = JSON.parse(readFileSync(join(TS, "dist", "cjs", "package.json"), "utf8"));
  check(cjs.type === "commonjs", "dist/cjs/package.json must say type commonjs");
  check(manifest.repository?.url, "package.json has no repository");
  check(manifest.license, "package.json has no license");
  check(manifest.exports["./package.json"] === "./package.json", "package.json is not exported");
}

// ---- the consumer projects ----

const BODY = `
const ajv = new Ajv2020({ strict: true, allErrors: true });
ADD_FORMATS;
ajv.addSchema(Object.values(SCHEMAS)); // every bundle, one instance, no extra keyword set-up

let validated = 0;
for (const name of Object.keys(CONTRACTS) as ContractName[]) {
  const { id, version } = CONTRACTS[name];
  const bundle = SCHEMAS[name];
  if (bundle.$id !== id || !id.includes(\`/\${version}/\`)) {
    throw new Error(\`\${name}: bundle $id \${bundle.$id} does not match \${id} (version \${version})\`);
  }
  for (const [definition, schema] of Object.entries(bundle.$defs)) {
    const examples = schema["examples"];
    if (!Array.isArray(examples)) continue;
    const validate = ajv.getSchema(\`\${id}#/$defs/\${definition}\`);
    if (validate === undefined) throw new Error(\`no schema for \${id}#/$defs/\${definition}\`);
    examples.forEach((example: unknown, index: number) => {
      if (!validate(example)) {
        throw new Error(\`\${name} \${definition} example \${index}: \${ajv.errorsText(validate.errors)}\`);
      }
      validated += 1;
    });
  }
}

// Compiling a bundle already added returns its validator (no "already exists"), typed.
const isJob: ValidateFunction<Job> = ajv.compile<Job>(SCHEMAS.Job);
const jobExamples = SCHEMAS.Job.$defs["Job"]?.["examples"];
const job: unknown = Array.isArray(jobExamples) ? jobExamples[0] : undefined;
if (!isJob(job)) throw new Error("the first Job example is refused by the bundle's root");
const status: Job["status"] = job.status; // narrowed to the generated type
const cost: Money | null | undefined = job.total_cost;

const refused: string[] = [];
for (const [pointer, bad] of [
  ["/status", { ...job, status: "exploded" }],
  ["/created_at", { ...job, created_at: "yesterday" }],
] as const) {
  if (isJob(bad)) throw new Error(\`a Job with a bad \${pointer} was accepted\`);
  if (!(isJob.errors ?? []).some((e) => e.instancePath === pointer)) {
    throw new Error(\`no error at \${pointer}: \${ajv.errorsText(isJob.errors)}\`);
  }
  refused.push(pointer);
}

if (JSON.stringify(jobFile) !== JSON.stringify(SCHEMAS.Job)) {
  throw new Error("schemas/Job.schema.json differs from SCHEMAS.Job");
}

// @ts-expect-error Money is a decimal string, never a number
const notMoney: Money = 0.06;

// Every file CONTRACTS names loads through the "./schemas/*" export and equals SCHEMAS (an error
// thrown here is an unhandled rejection: Node exits 1).
void Promise.all(
  (Object.keys(CONTRACTS) as ContractName[]).map(async (name) => {
    const file = await loadFile(\`@videogen/contracts/\${CONTRACTS[name].schema}\`);
    if (JSON.stringify(file) !== JSON.stringify(SCHEMAS[name])) {
      throw new Error(\`\${CONTRACTS[name].schema} differs from SCHEMAS.\${name}\`);
    }
    return name;
  }),
).then((files) => {
  console.log(
    JSON.stringify({ validated, refused, files: files.length, status, cost, name: pkg.name, version: pkg.version, notMoney }),
  );
});
`;

const IMPORTS = `import { CONTRACTS, SCHEMAS, type ContractName, type Job, type Money } from "@videogen/contracts";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
`;
const ESM_JSON = `import jobFile from "@videogen/contracts/schemas/Job.schema.json" with { type: "json" };
import pkg from "@videogen/contracts/package.json" with { type: "json" };
async function loadFile(specifier: string): Promise<unknown> {
  return ((await import(specifier, { with: { type: "json" } })) as { default: unknown }).default;
}
`;

const COMPILER = { strict: true, skipLibCheck: false, target: "ES2022", outDir: "out", rootDir: "src" };

const SETUPS = [
  {
    name: "nodenext",
    type: "module",
    build: "esm",
    compilerOptions: { ...COMPILER, module: "nodenext", moduleResolution: "nodenext", resolveJsonModule: true },
    // ajv-formats is CommonJS: under nodenext its plugin is the `default` property.
    source: IMPORTS + ESM_JSON + BODY.replace("ADD_FORMATS", "addFormats.default(ajv)"),
  },
  {
    name: "bundler",
    type: "module",
    build: "esm",
    compilerOptions: { ...COMPILER, module: "preserve", moduleResolution: "bundler", resolveJsonModule: true },
    source: IMPORTS + ESM_JSON + BODY.replace("ADD_FORMATS", "addFormats(ajv)"),
  },
  {
    name: "node16",
    type: "commonjs",
    build: "cjs",
    compilerOptions: { ...COMPILER, module: "node16", moduleResolution: "node16", resolveJsonModule: true },
    source:
      IMPORTS +
      `import jobFile = require("@videogen/contracts/schemas/Job.schema.json");
import pkg = require("@videogen/contracts/package.json");
declare const require: (specifier: string) => unknown; // Node's, without @types/node
async function loadFile(specifier: string): Promise<unknown> {
  return require(specifier);
}
` +
      BODY.replace("ADD_FORMATS", "addFormats(ajv)"),
  },
];

function consumer(root, tarball, setup) {
  const dir = join(root, setup.name);
  mkdirSync(join(dir, "src"), { recursive: true });
  const project = { name: `consumer-${setup.name}`, private: true, version: "0.0.0", type: setup.type };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(project, null, 2)}\n`);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: setup.compilerOptions, include: ["src"] }, null, 2),
  );
  writeFileSync(join(dir, "src", "main.ts"), setup.source);
  const pins = ["typescript", "ajv", "ajv-formats"].map((n) => `${n}@${manifest.devDependencies[n]}`);
  timed("npm install", () =>
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...pins], dir),
  );
  timed("tsc --strict", () => run(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "-p", "."], dir));
  const output = timed("run", () => run(process.execPath, [join("out", "main.js")], dir));
  const report = JSON.parse(output.trim().split("\n").at(-1));
  check(report.validated === exampleCount, `validated ${report.validated} examples, expected ${exampleCount}`);
  check(report.refused.join() === "/status,/created_at", `refused ${report.refused}`);
  check(report.files === bundleFiles.length, `loaded ${report.files} schema files, expected ${bundleFiles.length}`);
  check(report.name === PACKAGE && report.version === manifest.version, `package.json export: ${output}`);
  const compiled = readFileSync(join(dir, "out", "main.js"), "utf8");
  const viaRequire = compiled.includes(`require("${PACKAGE}")`);
  check(viaRequire === (setup.build === "cjs"), `${setup.name} compiled to the wrong module format`);
  const resolver =
    setup.build === "cjs"
      ? ["-e", `console.log(require.resolve("${PACKAGE}"))`]
      : ["--input-type=module", "-e", `console.log(import.meta.resolve("${PACKAGE}"))`];
  const resolved = run(process.execPath, resolver, dir).trim();
  check(resolved.includes(`/dist/${setup.build}/index.js`), `${setup.name} resolved ${resolved}`);
  console.log(`  validated ${report.validated} examples, ${report.files} schema files, refused ${report.refused.join(" ")}, loaded ${resolved.split("node_modules/")[1]}`);
}

const root = mkdtempSync(join(tmpdir(), "videogen-consumers-"));
try {
  const started = performance.now();
  console.log(`consumers: packing ${PACKAGE} into ${root}`);
  const packed = timed("npm pack", () => run("npm", ["pack", "--json", "--pack-destination", root], TS));
  const info = JSON.parse(packed.slice(packed.indexOf("[\n")))[0];
  checkTarball(info);
  console.log(
    `  ${info.filename}: ${info.files.length} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`,
  );
  const tarball = join(root, info.filename);
  // arethetypeswrong: every entry point's declarations under node10, node16 (CJS and ESM) and
  // bundler resolution (exits 1 on any problem, e.g. ESM declarations served to require).
  const attwManifest = createRequire(import.meta.url).resolve("@arethetypeswrong/cli/package.json");
  const attw = join(dirname(attwManifest), JSON.parse(readFileSync(attwManifest, "utf8")).bin.attw);
  const verdict = timed("attw", () => run(process.execPath, [attw, tarball, "--format", "json"], TS));
  const problems = JSON.parse(verdict).problems;
  check(problems && Object.keys(problems).length === 0, `arethetypeswrong: ${JSON.stringify(problems)}`);
  console.log("  arethetypeswrong: no problems (node10, node16 CJS and ESM, bundler)");
  for (const setup of SETUPS) {
    console.log(`consumer ${setup.name} (${setup.build}):`);
    consumer(root, tarball, setup);
  }
  const total = (performance.now() - started) / 1000;
  console.log(`consumers: ${SETUPS.length} projects passed in ${total.toFixed(1)} s`);
} finally {
  if (KEEP) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
