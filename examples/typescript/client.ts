// tenantgraph example client: login -> query -> subscribe, with Apollo Client 4 and graphql-ws.
//
//     npm ci && npm start [-- URL]      # default $TENANTGRAPH_URL or http://127.0.0.1:8000
//
// Signs in as the demo user of tenant acme, prints their orders and a product, subscribes to
// orderStatusChanged over graphql-transport-ws, places an order and cancels it (so the demo stock
// is given back), prints both events and exits 0. Runs on Node 22 (installed by npm ci), which
// strips the types; `npm run check` type-checks it with tsc.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import type { TypedDocumentNode } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import { ReplaySubject, firstValueFrom, skip, timeout } from "rxjs";

const TENANT = "acme";
const EMAIL = "user@acme.example";
const PASSWORD = "demo-password-1";
const EVENT_TIMEOUT_MS = 10_000; // the server's outbox delivers an event within about one second

interface Money { amount: number; currency: string }
interface UserError { code: string; message: string }
interface OrderRef { id: string; number: string; status: string }
interface OrderEvent { from: string | null; to: string; actor: string; order: { number: string; status: string } }

const LOGIN: TypedDocumentNode<
  { login: { accessToken: string | null; userErrors: UserError[] } },
  { input: { tenantSlug: string; email: string; password: string } }
> = gql`
  mutation Login($input: LoginInput!) {
    login(input: $input) { accessToken userErrors { code message } }
  }
`;
const OVERVIEW: TypedDocumentNode<{
  me: { email: string; tenant: { slug: string } };
  orders: { nodes: { number: string; status: string; total: Money }[] };
  products: { nodes: { id: string; sku: string; name: string; price: Money }[] };
}> = gql`
  query Overview {
    me { email tenant { slug } }
    orders { nodes { id number status total { amount currency } } }
    products(first: 1, filter: {search: "router"}) { nodes { id sku name price { amount currency } } }
  }
`;
const ORDER_STATUS_CHANGED: TypedDocumentNode<{ orderStatusChanged: OrderEvent }> = gql`
  subscription OrderStatusChanged {
    orderStatusChanged { from to actor order { id number status } }
  }
`;
const CREATE_ORDER: TypedDocumentNode<
  { createOrder: { order: OrderRef | null; userErrors: UserError[] } },
  { input: { items: { productId: string; quantity: number }[]; shippingAddress: Record<string, string> } }
> = gql`
  mutation CreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id number status } userErrors { code message } }
  }
`;
const CANCEL_ORDER: TypedDocumentNode<
  { cancelOrder: { order: OrderRef | null; userErrors: UserError[] } },
  { input: { id: string; reason: string } }
> = gql`
  mutation CancelOrder($input: OrderTransitionInput!) {
    cancelOrder(input: $input) { order { id number status } userErrors { code message } }
  }
`;
const ADDRESS = { name: "Demo User", line1: "1 Example Street", city: "Berlin", postalCode: "10115", country: "DE" };

function checked<T>(payload: { userErrors: UserError[] } & T): T {
  if (payload.userErrors.length > 0) throw new Error(`userErrors: ${JSON.stringify(payload.userErrors)}`);
  return payload;
}

const money = (value: Money): string => `${value.amount} ${value.currency} (minor units)`;

function printEvent(change: OrderEvent): void {
  console.log(`event: order ${change.order.number} ${change.from ?? "(new)"} -> ${change.to} by ${change.actor}`);
}

async function run(baseUrl: string): Promise<void> {
  let token: string | null = null;
  const connected = Promise.withResolvers<void>();
  const ws = createClient({
    url: baseUrl.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket, // Node 22's global WebSocket
    connectionParams: () => ({ Authorization: `Bearer ${token}` }), // the connection_init payload
    on: { connected: () => connected.resolve() },
  });
  const auth = new SetContextLink(({ headers }) => ({
    headers: token ? { ...headers, Authorization: `Bearer ${token}` } : headers,
  }));
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      (operation) => operation.operationType === "subscription",
      new GraphQLWsLink(ws),
      auth.concat(new HttpLink({ uri: `${baseUrl}/graphql` })),
    ),
  });
  try {
    const login = await client.mutate({
      mutation: LOGIN,
      variables: { input: { tenantSlug: TENANT, email: EMAIL, password: PASSWORD } },
    });
    token = checked(login.data!.login).accessToken;

    const { data } = await client.query({ query: OVERVIEW });
    console.log(`signed in as ${data!.me.email} (tenant ${data!.me.tenant.slug})`);
    for (const order of data!.orders.nodes) {
      console.log(`order ${order.number} ${order.status} total ${money(order.total)}`);
    }
    const product = data!.products.nodes[0];
    console.log(`product ${product.sku} ${product.name} price ${money(product.price)}`);

    // Events are kept until read; each nextEvent() takes the next one.
    const events = new ReplaySubject<OrderEvent>();
    const subscription = client.subscribe({ query: ORDER_STATUS_CHANGED }).subscribe({
      next: (result) => (result.error ? events.error(result.error) : events.next(result.data!.orderStatusChanged)),
      error: (error) => events.error(error),
    });
    let taken = 0;
    const nextEvent = () => firstValueFrom(events.pipe(skip(taken++), timeout(EVENT_TIMEOUT_MS)));
    try {
      await connected.promise;
      // graphql-transport-ws does not acknowledge a subscribe: give the server a moment to register it.
      await new Promise((resolve) => setTimeout(resolve, 500));
      console.log("subscribed to orderStatusChanged");
      const created = await client.mutate({
        mutation: CREATE_ORDER,
        variables: { input: { items: [{ productId: product.id, quantity: 1 }], shippingAddress: ADDRESS } },
      });
      const placed = checked(created.data!.createOrder).order!;
      console.log(`placed order ${placed.number} ${placed.status}`);
      printEvent(await nextEvent());

      const cancel = await client.mutate({
        mutation: CANCEL_ORDER,
        variables: { input: { id: placed.id, reason: "Example client" } },
      });
      const cancelled = checked(cancel.data!.cancelOrder).order!;
      console.log(`cancelled order ${cancelled.number} ${cancelled.status}`);
      printEvent(await nextEvent());
    } finally {
      subscription.unsubscribe();
    }
  } finally {
    client.stop();
    await ws.dispose();
  }
}

const url = (process.argv[2] ?? process.env.TENANTGRAPH_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
run(url).catch((error: unknown) => {
  console.error(`client.ts: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
});
