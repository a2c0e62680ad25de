"""``errorCodes`` (schema/error_code_catalog.py): each field lists exactly the values of its own enum."""

from __future__ import annotations

from schema.error_codes import ErrorCode, RefusalReason, TicketErrorCode
from tests.support.graphql import GraphQLClient


async def test_each_field_lists_its_own_enum(gql: GraphQLClient) -> None:
    data = (await gql("{ errorCodes { errors refusalReasons tickets } }")).ok()["errorCodes"]
    assert data["errors"] == [code.name for code in ErrorCode]
    assert data["refusalReasons"] == [reason.name for reason in RefusalReason]
    assert data["tickets"] == [code.name for code in TicketErrorCode]
    assert "INVALID_TRANSITION" in data["tickets"] and "NOT_FOUND" in data["errors"]
