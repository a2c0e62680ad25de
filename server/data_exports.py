"""GET /privacy/exports/{export_id}?token=...: the JSON document of a personal data export, by the
mailed link alone (the token is single use and expiring). RFC 7807 problems otherwise: 404 for an
unknown export or another export's token, 410 for a used or expired link."""

from __future__ import annotations

import json
import uuid

from starlette.requests import Request
from starlette.responses import Response

from server.problems import problem
from server.runtime import Runtime
from services.identity.data_export import DownloadRefused, download


async def data_export_download(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = request.query_params.get("token", "")
    try:
        export_id = uuid.UUID(request.path_params["export_id"])
    except ValueError:
        export_id = None
    if export_id is None or not token:
        return problem(404, "Not Found", "No such export, or not this link's.", code="NOT_FOUND")
    try:
        found = await download(runtime.db, export_id, token)
    except DownloadRefused as refused:
        return problem(refused.status, "Download refused", refused.detail, code=refused.code)
    return Response(
        json.dumps(found.document, indent=2, sort_keys=True),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "private, no-store",
        },
    )
