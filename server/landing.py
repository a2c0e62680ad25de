"""`/`: what this server is. In development a self-contained HTML page (no request leaves the
server) with links to GraphiQL, the probes, the metrics, the demo accounts and the schema, which
`/schema.graphql` prints from the running schema; in production a small JSON answer and no schema
download (introspection is off there too)."""

from __future__ import annotations

from functools import cached_property
from html import escape
from importlib.metadata import version

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.schema.base import BaseSchema

from core.settings import Settings
from demo import DEMO_PASSWORD, demo_accounts

NAME = "tenantgraph"
VERSION = version(NAME)
SCHEMA_PATH = "/schema.graphql"

_GRAPHIQL = ("/graphql", "GraphiQL", "run queries, mutations and subscriptions in the browser")
_DEMO = ("/demo", "/demo", "the live dashboard: provisioning progress bars and order status changes")
_LINKS = (
    ("/readyz", "/readyz", "readiness: ready, degraded or not_ready (503)"),
    ("/health/deep", "/health/deep", "every dependency with its numbers, and the configuration"),
    ("/metrics", "/metrics", "Prometheus metrics"),
    (SCHEMA_PATH, "schema.graphql", "the SDL of this running server (Apollo Federation v2 subgraph)"),
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{name} {version}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
  color: #1d1d1f; }}
h1 {{ margin-bottom: 0; }} .version {{ color: #6e6e73; font-size: 1rem; font-weight: normal; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: .2rem 1rem .2rem 0; }}
code {{ background: #f2f2f5; padding: 0 .25rem; border-radius: 3px; }} a {{ color: #0a58ca; }}
</style>
</head>
<body>
<h1>{name} <span class="version">{version}, development</span></h1>
<p>A multi-tenant GraphQL API (an Apollo Federation v2 subgraph): tenants and users, products,
carts and orders, invoices, payments and billing subscriptions. Queries and mutations are served
at <code>POST /graphql</code>, subscriptions over websockets at <code>/graphql</code>
(<code>graphql-transport-ws</code> and <code>graphql-ws</code>).</p>
<h2>Links</h2>
<ul>
{links}
</ul>
<h2>Demo accounts</h2>
<p>Created by <code>tenantgraph seed-demo</code> (<code>bash scripts/run.sh</code> runs it). Every one
has the password <code>{password}</code>. Sign in with the <code>login</code> mutation, then send
<code>Authorization: Bearer &lt;accessToken&gt;</code>.</p>
<table>
<tr><th>tenant slug</th><th>email</th><th>roles</th></tr>
{accounts}
</table>
</body>
</html>
"""


class Landing:
    def __init__(self, schema: BaseSchema, graphiql: bool, demo: bool) -> None:
        self.schema = schema
        self.links = (*((_GRAPHIQL,) if graphiql else ()), *((_DEMO,) if demo else ()), *_LINKS)

    @cached_property
    def page(self) -> str:
        links = "\n".join(
            f'<li><a href="{href}">{escape(label)}</a>: {escape(what)}</li>'
            for href, label, what in self.links
        )
        accounts = "\n".join(
            f"<tr><td>{escape(account.tenant_slug)}</td><td>{escape(account.email)}</td>"
            f"<td>{escape(', '.join(role.value for role in account.roles))}</td></tr>"
            for account in demo_accounts()
        )
        return _PAGE.format(
            name=NAME, version=VERSION, links=links, password=escape(DEMO_PASSWORD), accounts=accounts
        )

    @cached_property
    def sdl(self) -> str:
        return self.schema.as_str() + "\n"

    async def html(self, request: Request) -> Response:
        return HTMLResponse(self.page)

    async def schema_download(self, request: Request) -> Response:
        return PlainTextResponse(
            self.sdl,
            headers={"Content-Disposition": 'inline; filename="schema.graphql"'},
        )


async def production_landing(request: Request) -> Response:
    return JSONResponse(
        {"name": NAME, "version": VERSION, "links": {"graphql": "/graphql", "readiness": "/readyz"}}
    )


def landing_routes(schema: BaseSchema, settings: Settings) -> list[BaseRoute]:
    if settings.production:
        return [Route("/", production_landing, methods=["GET"])]
    landing = Landing(schema, settings.graphiql_enabled, settings.demo_dashboard_enabled)
    return [
        Route("/", landing.html, methods=["GET"]),
        Route(SCHEMA_PATH, landing.schema_download, methods=["GET"]),
    ]
