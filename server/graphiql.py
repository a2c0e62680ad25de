"""GraphiQL served from our own static assets (server/static/graphiql/, built by web/build.sh graphiql):
the page a browser gets at GET /graphql, and its scripts, styles, workers and font under /graphiql/.

Nothing on the page comes from another origin, and its Content-Security-Policy says so. In
development the page has a sign-in panel (tenant slug, email, password) that runs `login` and puts
the token into the headers editor. Settings.graphiql_enabled decides whether any of it is served."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache, cached_property
from html import escape
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from core.settings import ConfigurationError, Settings

ASSET_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
ASSET_PATH = "/graphiql"
GRAPHQL_PATH = "/graphql"

# The page and what it loads are ours alone: scripts, workers, fonts and connections (HTTP and the
# websocket) to this origin only. Monaco and GraphiQL set inline styles; fonts and the favicon are
# data: URLs; the sign-in form never submits (it calls fetch).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "worker-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",  # it names the assets of the current build
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
# esbuild's content hash in a file name (build.mjs): such a file never changes.
_HASHED = re.compile(r"-[A-Z0-9]{8}\.[a-z0-9]+$")
IMMUTABLE = "public, max-age=31536000, immutable"
_COMPRESS_AT_LEAST = 1024


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    cache_control: str

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    def compressed(self) -> bytes | None:
        """The body gzipped, when worth it."""
        if len(self.body) < _COMPRESS_AT_LEAST or self.content_type.startswith("font/"):
            return None
        return gzip.compress(self.body, compresslevel=6, mtime=0)


# Each asset's gzipped body, made on its first request in a worker thread (the bundle is megabytes:
# a fifth of a second of the event loop).
_gzipped: dict[tuple[Path, str], bytes | None] = {}


async def gzipped(directory: Path, name: str, asset: Asset) -> bytes | None:
    if (directory, name) not in _gzipped:
        _gzipped[directory, name] = await run_in_threadpool(asset.compressed)
    return _gzipped[directory, name]


@cache
def assets(directory: Path = ASSET_DIR) -> dict[str, Asset]:
    """Every file of a build (GraphiQL's, or the demo dashboard's), by name; read once per process."""
    found = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        content_type = _CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        cache_control = IMMUTABLE if _HASHED.search(path.name) else "no-cache"
        found[path.name] = Asset(path.read_bytes(), content_type, cache_control)
    return found


@cache
def manifest() -> dict[str, str]:
    """The build's entry script and style (web/graphiql/build.mjs writes manifest.json)."""
    built = assets().get("manifest.json")
    if built is None:
        raise ConfigurationError(
            f"GraphiQL's assets are missing from {ASSET_DIR}: run web/build.sh graphiql, "
            "or set TENANTGRAPH_GRAPHIQL=false"
        )
    names: dict[str, str] = json.loads(built.body)
    return names


@cache
def page_html(sign_in: bool) -> str:
    # Relative URLs: the page works behind a proxy that serves us under a path prefix too.
    names = manifest()
    base = ASSET_PATH.lstrip("/")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tenantgraph · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{base}/{escape(names["style"])}">
<script type="module" src="{base}/{escape(names["script"])}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{GRAPHQL_PATH.lstrip("/")}" data-sign-in="{str(sign_in).lower()}">
Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. Without it, POST your queries to {GRAPHQL_PATH}.</noscript>
</body>
</html>
"""


def graphiql_page(settings: Settings) -> HTMLResponse:
    """The GraphiQL page; the sign-in panel in development only."""
    return HTMLResponse(page_html(sign_in=not settings.production), headers=PAGE_HEADERS)


async def asset_response(request: Request, directory: Path) -> Response:
    """The file ``name`` of a build directory, gzipped when the client takes it, with its ETag."""
    name = request.path_params["name"]
    asset = assets(directory).get(name)
    if asset is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    wanted = "gzip" in request.headers.get("accept-encoding", "")
    zipped = await gzipped(directory, name, asset) if wanted else None
    # Each encoding is a representation of its own, with its own entity tag.
    etag = asset.etag[:-1] + '-gzip"' if zipped is not None else asset.etag
    headers = {
        "Cache-Control": asset.cache_control,
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if zipped is not None:
        headers["Content-Encoding"] = "gzip"
    return Response(zipped or asset.body, headers=headers, media_type=asset.content_type)


async def graphiql_asset(request: Request) -> Response:
    return await asset_response(request, ASSET_DIR)


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    """The asset routes, when GraphiQL is on (the page itself is GET /graphql's); the assets are
    read now, once per process."""
    if not settings.graphiql_enabled:
        return []
    manifest()
    return [Route(ASSET_PATH + "/{name}", graphiql_asset, methods=["GET"])]
