// PostGraphile 5 (amber preset) over the bench database, schema `public`, on HOST:PORT/graphql.
// Started by bench/processes.py with bench/node_modules/.bin/node (Node 22 from the npm package).
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const { DATABASE_URL, PORT, HOST } = process.env;
if (!DATABASE_URL || !PORT || !HOST) {
  console.error("postgraphile.mjs: set DATABASE_URL, PORT and HOST");
  process.exit(2);
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: DATABASE_URL, schemas: ["public"] })],
  grafserv: { port: Number(PORT), host: HOST, graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
await serv.addTo(server);
server.listen(Number(PORT), HOST, () => console.log(`postgraphile listening on ${HOST}:${PORT}`));

const stop = () => {
  server.close();
  pgl.release().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
