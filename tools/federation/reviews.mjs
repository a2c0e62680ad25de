// A partner's reviews and ratings service: a foreign subgraph (@apollo/subgraph) beside tenantgraph.
//
//     node reviews.mjs PORT          (or PORT from the environment; listens on 127.0.0.1)
//
// It defines `Review` itself (an entity, like ours: `rating` and `comment` are @shareable), extends
// our `Product` (@key id) with `ratingSummary` and `alsoRated`, and its `topRatedProducts` returns
// Product references our subgraph resolves: queries cross in both directions. Its data lives in
// memory: `PUT /reviews` replaces it with a JSON list of {id, productId, reviewer, rating, comment}.
// `GET /seen` lists the Authorization header (null when none) of every GraphQL request so far, and
// `Query.partnerCaller` answers the one it got: what a gateway forwarded.
import { createServer } from "node:http";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import gql from "graphql-tag";

const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@shareable"])

  # Shared with tenantgraph's Review: its descriptions are tenantgraph's (none here, so that
  # composition gives no INCONSISTENT_DESCRIPTION hint).
  type Review @key(fields: "id") {
    id: ID!
    rating: Int! @shareable
    comment: String @shareable
    "Who wrote it, as the partner knows them."
    reviewer: String!
  }

  "The partner's ratings of a product."
  type RatingSummary {
    "Mean rating; null without reviews."
    average: Float
    "How many reviews."
    count: Int!
  }

  type Product @key(fields: "id") {
    id: ID!
    "What the partner's reviewers think of it."
    ratingSummary: RatingSummary!
    "The partner's reviews of it."
    partnerReviews: [Review!]!
    "Other products rated by its reviewers, in the order they were first rated."
    alsoRated: [Product!]!
  }

  type Query {
    "Products by mean rating, best first (ties: more reviews first)."
    topRatedProducts(first: Int! = 5): [Product!]!
    "The Authorization header this request came with; null without one."
    partnerCaller: String
  }
`;

let reviews = [];
const seen = [];

const ofProduct = (id) => reviews.filter((review) => review.productId === id);
const productRef = (id) => ({ __typename: "Product", id });

function summary(id) {
  const ratings = ofProduct(id).map((review) => review.rating);
  const average = ratings.length ? ratings.reduce((a, b) => a + b, 0) / ratings.length : null;
  return { average, count: ratings.length };
}

const resolvers = {
  Query: {
    topRatedProducts(_, { first }) {
      const ids = [...new Set(reviews.map((review) => review.productId))];
      const ranked = ids.map((id) => ({ id, ...summary(id) }));
      ranked.sort((a, b) => b.average - a.average || b.count - a.count || a.id.localeCompare(b.id));
      return ranked.slice(0, first).map((product) => productRef(product.id));
    },
    partnerCaller: (_, __, context) => context.authorization,
  },
  Product: {
    __resolveReference: (reference) => productRef(reference.id),
    ratingSummary: (product) => summary(product.id),
    partnerReviews: (product) => ofProduct(product.id),
    alsoRated(product) {
      const reviewers = new Set(ofProduct(product.id).map((review) => review.reviewer));
      const others = reviews.filter((r) => reviewers.has(r.reviewer) && r.productId !== product.id);
      return [...new Set(others.map((review) => review.productId))].map(productRef);
    },
  },
  Review: {
    __resolveReference: (reference) => reviews.find((review) => review.id === reference.id) ?? null,
  },
};

const apollo = new ApolloServer({
  schema: buildSubgraphSchema({ typeDefs, resolvers }),
  plugins: [ApolloServerPluginInlineTraceDisabled()],
});
await apollo.start();

async function body(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response, status, headers, text) {
  response.writeHead(status, headers);
  response.end(text);
}

async function graphql(request, response, text) {
  const authorization = request.headers.authorization ?? null;
  seen.push(authorization);
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) headers.set(name, String(value));
  const url = new URL(request.url, "http://localhost");
  const answer = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method, headers, search: url.search, body: text ? JSON.parse(text) : {} },
    context: async () => ({ authorization }),
  });
  let out = "";
  if (answer.body.kind === "complete") out = answer.body.string;
  else for await (const chunk of answer.body.asyncIterator) out += chunk;
  reply(response, answer.status ?? 200, Object.fromEntries(answer.headers), out);
}

const server = createServer(async (request, response) => {
  try {
    const text = await body(request);
    if (request.url === "/reviews" && request.method === "PUT") {
      reviews = JSON.parse(text);
      seen.length = 0;
      return reply(response, 204, {}, "");
    }
    if (request.url === "/seen") return reply(response, 200, { "content-type": "application/json" }, JSON.stringify(seen));
    if (request.url === "/health") return reply(response, 200, { "content-type": "text/plain" }, "ok");
    return await graphql(request, response, text);
  } catch (error) {
    reply(response, 500, { "content-type": "text/plain" }, String(error?.stack ?? error));
  }
});
const port = Number(process.argv[2] ?? process.env.PORT ?? 4001);
server.listen(port, "127.0.0.1", () => console.log(`reviews subgraph on http://127.0.0.1:${port}/graphql`));
