// Build the package twice from src/ (run by `npm run build`, and so by `npm pack`):
//   dist/esm  ES modules (tsconfig.json: module NodeNext; the package is "type": "module"),
//   dist/cjs  CommonJS (tsconfig.cjs.json), marked by its own {"type": "commonjs"} package.json
//             so that Node and TypeScript (`module: node16`) read its .js and .d.ts as CommonJS.
// package.json's "exports" sends `import` to dist/esm and `require` to dist/cjs, each with its
// own declarations. Starts from an empty dist/ so no stale file is ever packed.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(join(root, "dist"), { recursive: true, force: true });
for (const project of ["tsconfig.json", "tsconfig.cjs.json"]) {
  execFileSync(process.execPath, [tsc, "-p", project], { cwd: root, stdio: "inherit" });
}
mkdirSync(join(root, "dist", "cjs"), { recursive: true });
writeFileSync(join(root, "dist", "cjs", "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
