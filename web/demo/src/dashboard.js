// The live demo dashboard (/demo, development only): signs in as the demo user, lists their
// provisioning requests as progress bars that move with `provisioningUpdates`, their orders'
// status changes as `orderStatusChanged` delivers them, and their notifications with the unread
// count (`notificationReceived`, `unreadCount`). Plain DOM, graphql-ws over the same origin.
import { createClient } from "graphql-ws";
import "./dashboard.css";

const LOGIN = `mutation DemoLogin($input: LoginInput!) {
  login(input: $input) { accessToken user { email } userErrors { code message } }
}`;
const RUN = "id status percent product { name } createdAt";
const NOTE = "id title body unread createdAt";
const START_DATA = `query DemoStart {
  provisioningRequests(first: 20) { nodes { ${RUN} } }
  products(first: 100) { nodes { id name requiresProvisioning } }
  orders(first: 10) { nodes { number status updatedAt } }
  notifications(first: 10) { nodes { ${NOTE} } }
  unreadNotificationCount
}`;
const START = `mutation DemoStartRun($input: CreateProvisioningRequestInput!) {
  createProvisioningRequest(input: $input) { request { ${RUN} } userErrors { code message } }
}`;
const UPDATES = `subscription DemoUpdates { provisioningUpdates { step request { ${RUN} } } }`;
const NOTES = `subscription DemoNotes { notificationReceived { ${NOTE} } }`;
const UNREAD = "subscription DemoUnread { unreadCount { count } }";
const ORDERS = `subscription DemoOrders {
  orderStatusChanged { from to actor order { number status updatedAt } }
}`;

const main = document.querySelector("main");
const account = { tenantSlug: main.dataset.tenant, email: main.dataset.email, password: main.dataset.password };
const runsList = document.getElementById("runs");
const ordersList = document.getElementById("orders");
const notesList = document.getElementById("notifications");
const unread = document.getElementById("unread");
const status = document.getElementById("connection");
const startButton = document.getElementById("start");
let token = null;
let serviceProductId = null;
let connections = 0;

async function graphql(query, variables = {}) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors.map((error) => error.message).join("; "));
  return body.data;
}

function payloadOf(data) {
  const payload = Object.values(data)[0];
  if (payload.userErrors.length) throw new Error(payload.userErrors.map((e) => `${e.code}: ${e.message}`).join("; "));
  return payload;
}

function showRun(run) {
  let item = runsList.querySelector(`[data-id="${CSS.escape(run.id)}"]`);
  if (!item) {
    item = document.createElement("li");
    item.className = "run";
    item.dataset.id = run.id;
    item.innerHTML = '<span class="name"></span><progress max="100"></progress><span class="percent"></span><span class="status"></span>';
    runsList.prepend(item);
  }
  item.querySelector(".name").textContent = run.product?.name ?? "Service";
  item.querySelector("progress").value = run.percent;
  item.querySelector(".percent").textContent = `${run.percent} %`;
  item.querySelector(".status").textContent = run.status;
  item.dataset.status = run.status;
}

function showRuns(runs) {
  runs.slice().reverse().forEach(showRun);
}

function showOrderChange(change) {
  const item = document.createElement("li");
  item.className = "order-change";
  item.dataset.status = change.to;
  const when = new Date(change.order.updatedAt).toLocaleTimeString();
  const move = change.actor ? `${change.from ?? "new"} -> ${change.to} (${change.actor})` : `${change.to}`;
  item.textContent = `${when} order ${change.order.number}: ${move}`;
  ordersList.prepend(item);
}

function showNote(note) {
  if (notesList.querySelector(`[data-id="${CSS.escape(note.id)}"]`)) return;
  const item = document.createElement("li");
  item.className = "note";
  item.dataset.id = note.id;
  item.dataset.unread = String(note.unread);
  item.innerHTML = '<strong class="title"></strong> <span class="body"></span>';
  item.querySelector(".title").textContent = note.title;
  item.querySelector(".body").textContent = note.body;
  notesList.prepend(item);
}

function showUnread(count) {
  unread.textContent = String(count);
}

function subscribe(client, query, onData) {
  client.subscribe(
    { query },
    {
      next: (message) => (message.errors ? setStatus(message.errors[0].message, "error") : onData(message.data)),
      error: (error) => setStatus(String(error?.reason || error?.message || error), "error"),
      complete: () => {},
    },
  );
}

function setStatus(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

async function start() {
  startButton.disabled = true;
  try {
    const payload = payloadOf(
      await graphql(START, { input: { productId: serviceProductId, parameters: { source: "demo dashboard" } } }),
    );
    showRun(payload.request);
  } catch (error) {
    setStatus(error.message, "error");
  } finally {
    startButton.disabled = false;
  }
}

async function run() {
  setStatus("signing in ...", "pending");
  const login = payloadOf(await graphql(LOGIN, { input: account }));
  token = login.accessToken;
  document.getElementById("whoami").textContent = login.user.email;
  const data = await graphql(START_DATA);
  showRuns(data.provisioningRequests.nodes);
  serviceProductId = data.products.nodes.find((product) => product.requiresProvisioning)?.id ?? null;
  data.notifications.nodes.slice().reverse().forEach(showNote);
  showUnread(data.unreadNotificationCount);
  for (const order of data.orders.nodes.slice().reverse()) {
    showOrderChange({ from: null, to: order.status, actor: null, order });
  }
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const client = createClient({
    url,
    connectionParams: () => ({ Authorization: `Bearer ${token}` }),
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      // After a reconnect the bars are read again: what happened while away was not delivered.
      connected: () => {
        setStatus("live", "live");
        if (connections++ > 0) graphql(START_DATA).then((again) => showRuns(again.provisioningRequests.nodes));
      },
      closed: () => setStatus("reconnecting ...", "pending"),
    },
  });
  subscribe(client, UPDATES, (update) => showRun(update.provisioningUpdates.request));
  subscribe(client, ORDERS, (update) => showOrderChange(update.orderStatusChanged));
  subscribe(client, NOTES, (update) => showNote(update.notificationReceived));
  subscribe(client, UNREAD, (update) => showUnread(update.unreadCount.count));
  startButton.disabled = serviceProductId === null;
  startButton.addEventListener("click", start);
}

run().catch((error) => setStatus(error.message, "error"));
