// Hive Gateway (@graphql-hive/gateway's runtime) over a supergraph file (compose.mjs's
// supergraphSdl), with subscriptions over websockets both ways:
//
//     node hive-gateway.mjs PORT SUPERGRAPH_FILE
//
// The client's Authorization header (over HTTP) or `connectionParams.Authorization` (over
// graphql-transport-ws, any case) is sent to every subgraph request made for it: as a header over
// HTTP (the follow-up `_entities` fetches of a subscription's events too) and in connection_init
// of the websocket a subscription opens to the subgraph. Listens on 127.0.0.1, GraphQL at /graphql.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { createGatewayRuntime, getGraphQLWSOptions } from "@graphql-hive/gateway";

const [port, supergraph] = process.argv.slice(2);

function authorizationOf(context) {
  const params = context?.connectionParams ?? {};
  const key = Object.keys(params).find((name) => name.toLowerCase() === "authorization");
  return key ? params[key] : context?.request?.headers?.get("authorization") ?? undefined;
}

const gateway = createGatewayRuntime({
  supergraph,
  logging: "warn",
  propagateHeaders: {
    fromClientToSubgraphs: ({ context }) => ({ authorization: authorizationOf(context) }),
  },
  plugins: () => [
    {
      onContextBuilding({ context, extendContext }) {
        extendContext({ authorization: authorizationOf(context) ?? "" });
      },
    },
  ],
  transportEntries: {
    "*": {
      options: {
        subscriptions: {
          kind: "ws",
          location: "/graphql",
          options: { connectionParams: { Authorization: "{context.authorization}" } },
        },
      },
    },
  },
});

const server = createServer(gateway);
const sockets = new WebSocketServer({ path: gateway.graphqlEndpoint, server });
useServer(
  getGraphQLWSOptions(gateway, (ctx) => ({
    req: ctx.extra.request,
    socket: ctx.extra.socket,
    request: new Request(`http://127.0.0.1:${port}${gateway.graphqlEndpoint}`, {
      headers: Object.entries(ctx.extra.request.headers).filter(([, v]) => typeof v === "string"),
    }),
  })),
  sockets,
);
server.listen(Number(port), "127.0.0.1", () => console.log(`Hive Gateway on http://127.0.0.1:${port}/graphql`));
// Stopped by its PID (SIGTERM): at once, open websockets and all (the runtime would wait for them).
process.once("SIGTERM", () => process.exit(0));
