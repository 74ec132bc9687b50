// Compile one JSON Schema (read from standard input) to TypeScript declarations on standard output
// with json-schema-to-typescript. Run by `python -m codegen generate` (codegen/typescript.py), which
// prepares the input (every definition of every schema file, references made local) and writes
// the result to ts/src/contracts.ts. Deterministic: no timestamps, fixed formatting options.
import { compile } from "json-schema-to-typescript";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const output = await compile(request.schema, request.name, {
  bannerComment: request.bannerComment,
  additionalProperties: false,
  declareExternallyReferenced: true,
  enableConstEnums: false,
  format: true,
  ignoreMinAndMaxItems: true,
  strictIndexSignatures: true,
  unknownAny: true,
  unreachableDefinitions: false,
  style: { printWidth: 100, singleQuote: false, trailingComma: "all", semi: true },
});
process.stdout.write(output);
