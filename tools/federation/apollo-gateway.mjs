// Apollo Gateway (@apollo/gateway + @apollo/server) over running subgraphs, composed at start by
// IntrospectAndCompose from each one's `_service { sdl }`:
//
//     node apollo-gateway.mjs PORT NAME=URL [NAME=URL ...]
//
// With TENANTGRAPH_GATEWAY_SECRET set, every request to a subgraph carries it as X-Gateway-Secret
// (a production tenantgraph answers `_service` only so); the client's Authorization header is
// forwarded with each request made for it. Listens on 127.0.0.1.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";

const [port, ...named] = process.argv.slice(2);
const subgraphs = named.map((argument) => {
  const at = argument.indexOf("=");
  if (at < 1) throw new Error(`expected NAME=URL, got ${argument}`);
  return { name: argument.slice(0, at), url: argument.slice(at + 1) };
});
const secret = process.env.TENANTGRAPH_GATEWAY_SECRET;

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (secret) request.http.headers.set("x-gateway-secret", secret);
    if (context?.authorization) request.http.headers.set("authorization", context.authorization);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs }),
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(port) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`Apollo Gateway on ${url}`);
