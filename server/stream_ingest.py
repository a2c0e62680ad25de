"""The ingest server's callbacks, as nginx-rtmp sends them: POST /streams/ingest/publish
(``on_publish``) and POST /streams/ingest/publish-done (``on_publish_done``), form-encoded, the
stream key in ``name``. The shared secret (stream_ingest_secret) comes as the form field
``secret`` or the query parameter ``secret`` (``on_publish http://host/streams/ingest/publish?secret=...``;
nginx-rtmp also passes a publisher's own ``rtmp://.../live/KEY?secret=...`` arguments as form
fields). 2xx takes the publish; any refusal is 403 (nginx-rtmp then drops the connection), the
same for a bad secret and for an unknown, replaced or banned key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.problems import problem
from server.runtime import Runtime
from services.streams.ingest import IngestRefused, publish, publish_done

MAX_FORM_FIELDS = 50


async def _fields(request: Request) -> tuple[str | None, str | None]:
    async with request.form(max_fields=MAX_FORM_FIELDS, max_files=0) as form:
        name = form.get("name")
        secret = form.get("secret") or request.query_params.get("secret")
    return (name if isinstance(name, str) else None, secret if isinstance(secret, str) else None)


async def _handle(request: Request, done: bool) -> Response:
    runtime: Runtime = request.app.state.runtime
    key, secret = await _fields(request)
    ctx = runtime.services_for(request)
    try:
        await (publish_done if done else publish)(ctx, key, secret)
    except IngestRefused:
        return problem(403, "Forbidden", "Publishing refused.")
    return Response(status_code=204)


async def ingest_publish(request: Request) -> Response:
    return await _handle(request, done=False)


async def ingest_publish_done(request: Request) -> Response:
    return await _handle(request, done=True)
