// Ajv side of the cross-language agreement check (run by `python -m codegen agreement`).
// Reads {"keywords", "schemasDir", "bundleDir", "cases": [{"id", "area", "definition", "instance"}]} on
// standard input and writes [{"id", "ajv", "ajvBundle", "errors"}] on standard output:
//   ajv        the verdict of Ajv (draft 2020-12, strict mode, ajv-formats) with every source
//              schema file registered, validating against <$id>#/$defs/<definition>;
//   ajvBundle  the verdict against the bundled schema ts/schemas/<definition>.schema.json
//              (null when the definition has no bundle). Every bundle is loaded into ONE strict
//              Ajv instance with ajv-formats and nothing else, as consumers of the npm package do:
//              the bundles carry no x- keywords and each has its own $id.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export function newAjv(keywords = []) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  for (const keyword of keywords) ajv.addKeyword({ keyword });
  return ajv;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

// Our own annotation keywords in the source files, from the lint's registry (the bundles have none).
const sources = newAjv(request.keywords);
const ids = {};
for (const name of readdirSync(request.schemasDir).sort()) {
  if (!name.endsWith(".schema.json")) continue;
  const schema = JSON.parse(readFileSync(join(request.schemasDir, name), "utf8"));
  sources.addSchema(schema);
  ids[name.replace(/\.schema\.json$/, "")] = schema.$id;
}

const bundles = newAjv();
const bundleIds = {};
for (const name of readdirSync(request.bundleDir).sort()) {
  if (!name.endsWith(".schema.json")) continue;
  const schema = JSON.parse(readFileSync(join(request.bundleDir, name), "utf8"));
  bundles.addSchema(schema); // throws on an unknown keyword (strict) or a repeated $id
  bundleIds[name.replace(/\.schema\.json$/, "")] = schema.$id;
}
function bundleValidator(definition) {
  const id = bundleIds[definition];
  return id === undefined ? null : bundles.getSchema(id);
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
