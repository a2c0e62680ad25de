// The development sign-in panel: tenant slug, email and password run the `login` mutation; the
// access token goes into the headers editor as Authorization: Bearer <token>.
import { useGraphiQL } from "@graphiql/react";
import { useState } from "react";

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken
    user { email roles tenant { slug } }
    userErrors { code message }
  }
}`;

// The demo accounts that `tenantgraph seed-demo` creates (their password is in the README).
const DEMO = { tenantSlug: "acme", email: "user@acme.example", password: "demo-password-1" };

async function login(endpoint, input) {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: LOGIN, variables: { input }, operationName: "Login" }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors.map((error) => error.message).join("; "));
  const payload = body.data.login;
  if (payload.userErrors.length) {
    throw new Error(payload.userErrors.map((error) => `${error.code}: ${error.message}`).join("; "));
  }
  return payload;
}

// The headers editor's JSON with Authorization set (other headers, e.g. X-Tenant-Id, are kept).
function withAuthorization(text, token) {
  let headers = {};
  try {
    const parsed = JSON.parse(text || "{}");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) headers = parsed;
  } catch {
    // Not JSON (yet): replaced by ours.
  }
  return JSON.stringify({ ...headers, Authorization: `Bearer ${token}` }, null, 2);
}

function SignInPanel({ endpoint }) {
  const headerEditor = useGraphiQL((state) => state.headerEditor);
  const [form, setForm] = useState(DEMO);
  const [status, setStatus] = useState({ kind: "idle", text: "" });
  const field = (name) => (event) => setForm({ ...form, [name]: event.target.value });

  async function submit(event) {
    event.preventDefault();
    setStatus({ kind: "busy", text: "Signing in…" });
    try {
      const payload = await login(endpoint, form);
      headerEditor?.setValue(withAuthorization(headerEditor.getValue(), payload.accessToken));
      const { user } = payload;
      setStatus({ kind: "ok", text: `Signed in as ${user.email} (${user.tenant.slug}; ${user.roles.join(", ")})` });
    } catch (error) {
      setStatus({ kind: "error", text: error.message });
    }
  }

  return (
    <form className="tg-sign-in" onSubmit={submit} aria-label="Sign in">
      <div className="graphiql-doc-explorer-title">Sign in</div>
      <p>Runs <code>login</code> and puts the access token into the headers editor.</p>
      <label>
        Tenant slug
        <input name="tenantSlug" value={form.tenantSlug} onChange={field("tenantSlug")} autoComplete="organization" required />
      </label>
      <label>
        Email
        <input name="email" type="email" value={form.email} onChange={field("email")} autoComplete="username" required />
      </label>
      <label>
        Password
        <input name="password" type="password" value={form.password} onChange={field("password")} autoComplete="current-password" required />
      </label>
      <button type="submit" className="graphiql-button" disabled={status.kind === "busy"}>Sign in</button>
      <output className={`tg-sign-in-status tg-${status.kind}`} role="status">{status.text}</output>
    </form>
  );
}

function SignInIcon() {
  return (
    <svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <circle cx="12" cy="8" r="4" />
      <path d="M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8" />
    </svg>
  );
}

export function signInPlugin(endpoint) {
  return { title: "Sign in", icon: SignInIcon, content: () => <SignInPanel endpoint={endpoint} /> };
}
