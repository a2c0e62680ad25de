"""``errorCodes``: the code catalogue (schema/error_code_catalog.py), for anyone."""

from __future__ import annotations

import strawberry

from schema.directives import PUBLIC, access
from schema.error_code_catalog import ErrorCodes


@strawberry.type
class ErrorCodeQuery:
    @strawberry.field(
        graphql_type=ErrorCodes,
        extensions=access(PUBLIC),
        description="Every error code, by where it appears (top-level errors, refusals, each domain's "
        "userErrors).",
    )
    def error_codes(self) -> object:
        return ErrorCodes()
