"""Provisioning inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.provisioning import ProvisioningStatus
from schema.errors import UserError, user_errors_field
from schema.provisioning.types import ProvisioningRequest


@strawberry.input(description="A service to set up for you.")
class CreateProvisioningRequestInput:
    product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A product of the tenant that needs provisioning."
    )
    plan_id: relay.GlobalID | None = strawberry.field(default=None, description="A plan of the tenant.")
    parameters: JSON | None = strawberry.field(
        default=None, description="What to set up: a JSON object of at most 8 KiB, 5 levels deep."
    )
    manual: bool = strawberry.field(
        default=False, description="Set up by people (completeManualProvisioning) rather than the workers."
    )


@strawberry.input(description="A provisioning request and, optionally, why it moves.")
class ProvisioningTransitionInput:
    id: relay.GlobalID = strawberry.field(description="The request's global id.")
    reason: str | None = strawberry.field(
        default=None, description="Why; kept in the audit trail (a failure's or step's message)."
    )


@strawberry.input(description="Which provisioning requests to list; the conditions given all apply.")
class ProvisioningRequestFilterInput:
    status: ProvisioningStatus | None = strawberry.field(default=None, description="Only in this status.")
    order_id: relay.GlobalID | None = strawberry.field(default=None, description="Only this order's.")
    owner_id: relay.GlobalID | None = strawberry.field(default=None, description="Staff: one user's.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time (with a timezone offset)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time (with a timezone offset)."
    )


@strawberry.type(description="The result of a provisioning change: the request as it is now, or userErrors.")
class ProvisioningRequestPayload:
    request: ProvisioningRequest | None = strawberry.field(default=None, description="The request after it.")
    user_errors: list[UserError] = user_errors_field()
