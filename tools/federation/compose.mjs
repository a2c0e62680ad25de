// Compose subgraphs with @apollo/composition and print one JSON object on stdout:
// {errors: [...], hints: [...], supergraphSdl, apiSchema} (apiSchema: what a client of the gateway sees).
//
//     node compose.mjs NAME=URL_OR_FILE [NAME=URL_OR_FILE ...]
//
// A URL is asked for `_service { sdl }` (with $AUTHORIZATION as the Authorization header and
// $TENANTGRAPH_GATEWAY_SECRET as X-Gateway-Secret, each if set: a production tenantgraph answers
// `_service` only to its gateway secret or a platform admin);
// a file holds the SDL itself.
import { readFile } from "node:fs/promises";
import { composeServices } from "@apollo/composition";
import { parse, printSchema, lexicographicSortSchema } from "graphql";

async function sdlOf(source) {
  if (!/^https?:\/\//.test(source)) return readFile(source, "utf8");
  const headers = { "content-type": "application/json" };
  if (process.env.AUTHORIZATION) headers.authorization = process.env.AUTHORIZATION;
  if (process.env.TENANTGRAPH_GATEWAY_SECRET) headers["x-gateway-secret"] = process.env.TENANTGRAPH_GATEWAY_SECRET;
  const answer = await fetch(source, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  const body = await answer.json();
  if (body.errors) throw new Error(`${source}: ${JSON.stringify(body.errors)}`);
  return body.data._service.sdl;
}

const services = [];
for (const argument of process.argv.slice(2)) {
  const at = argument.indexOf("=");
  if (at < 1) throw new Error(`expected NAME=URL_OR_FILE, got ${argument}`);
  const name = argument.slice(0, at);
  const source = argument.slice(at + 1);
  const url = /^https?:\/\//.test(source) ? source : `http://${name}.invalid/graphql`;
  services.push({ name, url, typeDefs: parse(await sdlOf(source)) });
}

const result = composeServices(services);
const out = {
  errors: (result.errors ?? []).map((e) => `${e.extensions?.code ?? ""}: ${e.message}`),
  hints: (result.hints ?? []).map((h) => `${h.definition?.code ?? ""}: ${h.message}`),
  supergraphSdl: result.supergraphSdl ?? null,
  apiSchema: result.errors ? null : printSchema(lexicographicSortSchema(result.schema.toAPISchema().toGraphQLJSSchema())),
};
process.stdout.write(JSON.stringify(out));
