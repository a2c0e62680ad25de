// tenantgraph's GraphiQL: GraphiQL 5 with the explorer plugin, subscriptions over
// graphql-transport-ws (graphql-ws), and in development a sign-in panel that runs `login` and puts
// the access token into the headers editor. The page (server/graphiql.py) passes its settings in
// data attributes of #graphiql; no inline script, no other origin.
import "./workers.js";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { GraphiQL } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { createClient } from "graphql-ws";
import { createRoot } from "react-dom/client";
import { signInPlugin } from "./sign-in.jsx";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./page.css";

const root = document.getElementById("graphiql");
const endpoint = new URL(root.dataset.endpoint, window.location.href);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

// Queries and mutations go over HTTP with the headers editor's headers; subscriptions over one
// graphql-transport-ws connection per set of headers, sent in connection_init (the server reads
// Authorization and X-Tenant-Id from there). A new set (say, after signing in) closes the old one.
const http = createGraphiQLFetcher({ url: endpoint.href });
let connection = null;

function socketFor(headers) {
  const key = JSON.stringify(headers ?? {});
  if (connection?.key !== key) {
    connection?.client.dispose();
    connection = { key, client: createClient({ url: socket.href, connectionParams: headers ?? {} }) };
  }
  return connection.client;
}

// The operation GraphiQL runs is a subscription (from the document itself: the editor's parsed
// copy may lag behind what was just typed).
function isSubscription({ query, operationName }) {
  try {
    return getOperationAST(parse(query), operationName || undefined)?.operation === "subscription";
  } catch {
    return false; // the server answers the syntax error
  }
}

const fetcher = (params, options) =>
  isSubscription(params) ? socketFor(options?.headers).iterate(params) : http(params, options);

const plugins = [explorerPlugin()];
const signIn = root.dataset.signIn === "true" ? signInPlugin(endpoint.href) : null;
if (signIn) plugins.unshift(signIn);

const DEFAULT_QUERY = `# Sign in on the left (or set Authorization in the headers
# below), then run this with Ctrl-Enter:
{ me { email roles tenant { slug } } }
`;

createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={plugins}
    visiblePlugin={signIn ?? undefined}
    defaultQuery={DEFAULT_QUERY}
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
  />,
);
