// Ajv side of the cross-language agreement check (run by `python -m codegen agreement`).
// Reads {"schemasDir", "bundleDir", "cases": [{"id", "area", "definition", "instance"}]} on
// standard input and writes [{"id", "ajv", "ajvBundle", "errors"}] on standard output:
//   ajv        the verdict of Ajv (draft 2020-12, strict mode, ajv-formats) with every source
//              schema file registered, validating against <$id>#/$defs/<definition>;
//   ajvBundle  the verdict against the bundled schema ts/schemas/<definition>.schema.json
//              (null when the definition has no bundle), each bundle in its own Ajv instance.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** Our own annotation keywords: known to Ajv (strict mode rejects unknown keywords). */
export const VIDEOGEN_KEYWORDS = ["x-sql", "x-table", "x-python-type", "x-renamed-from"];

export function newAjv() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  for (const keyword of VIDEOGEN_KEYWORDS) ajv.addKeyword({ keyword, schemaType: ["object", "string"] });
  return ajv;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const sources = newAjv();
const ids = {};
for (const name of readdirSync(request.schemasDir).sort()) {
  if (!name.endsWith(".schema.json")) continue;
  const schema = JSON.parse(readFileSync(join(request.schemasDir, name), "utf8"));
  sources.addSchema(schema);
  ids[name.replace(/\.schema\.json$/, "")] = schema.$id;
}

const bundles = new Map();
function bundleValidator(definition) {
  if (!bundles.has(definition)) {
    const path = join(request.bundleDir, `${definition}.schema.json`);
    bundles.set(
      definition,
      existsSync(path) ? newAjv().compile(JSON.parse(readFileSync(path, "utf8"))) : null,
    );
  }
  return bundles.get(definition);
}

const results = request.cases.map((c) => {
  const validate = sources.getSchema(`${ids[c.area]}#/$defs/${c.definition}`);
  if (!validate) throw new Error(`no schema for ${c.area}#/$defs/${c.definition}`);
  const ok = validate(c.instance);
  const errors = ok ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`);
  const bundled = bundleValidator(c.definition);
  return { id: c.id, ajv: ok, ajvBundle: bundled ? bundled(c.instance) : null, errors };
});
process.stdout.write(JSON.stringify(results));
