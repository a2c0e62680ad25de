"""Verification and recovery resolvers: verify your email and phone, reset a forgotten password."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from models.identity.accounts import User as UserRow
from schema.directives import AUTHENTICATED, PUBLIC, access
from schema.errors import mutation_payload
from schema.identity.accounts import User
from schema.identity.verification import (
    PasswordResetPayload,
    PasswordResetRequestPayload,
    RequestPasswordResetInput,
    ResetPasswordInput,
    VerificationPayload,
    VerificationSentPayload,
    VerifyEmailInput,
    VerifyPhoneInput,
)
from services.identity import verification
from services.identity.users import can_read_user
from services.identity.verification import Sent


def _sent(sent: Sent) -> VerificationSentPayload:
    return VerificationSentPayload(sent_to=sent.sent_to, expires_at=sent.expires_at)


def _verified(info: Info, user: UserRow) -> VerificationPayload:
    readable = can_read_user(info.context.services, user.id)
    return VerificationPayload(verified=True, user=User.from_model(user) if readable else None)


@strawberry.type
class VerificationMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Mail a new verification link to your email address (the previous link stops "
        "working). Rate-limited.",
    )
    async def request_email_verification(self, info: Info) -> VerificationSentPayload:
        call = verification.request_email_verification(info.context.services)
        return await mutation_payload(VerificationSentPayload, call, _sent)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Verify an email address with the token of its link (single use; no sign-in "
        "needed), or with the mail's 6-digit code: with the token, or signed in (TOKEN_OR_CODE with "
        "neither).",
    )
    async def verify_email(
        self,
        info: Info,
        input: Annotated[
            VerifyEmailInput, strawberry.argument(description="The link's token, the mail's code, or both.")
        ],
    ) -> VerificationPayload:
        call = verification.verify_email(info.context.services, input.tenant_slug, input.token, input.code)
        return await mutation_payload(VerificationPayload, call, lambda user: _verified(info, user))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Text a new six-digit code to your phone number (the previous code stops working). "
        "Rate-limited.",
    )
    async def request_phone_verification(self, info: Info) -> VerificationSentPayload:
        call = verification.request_phone_verification(info.context.services)
        return await mutation_payload(VerificationSentPayload, call, _sent)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Verify your phone number with the texted code; a few wrong codes and it stops "
        "working (VERIFICATION_ATTEMPTS_EXCEEDED).",
    )
    async def verify_phone(
        self,
        info: Info,
        input: Annotated[VerifyPhoneInput, strawberry.argument(description="The texted code.")],
    ) -> VerificationPayload:
        call = verification.verify_phone(info.context.services, input.code)
        return await mutation_payload(VerificationPayload, call, lambda user: _verified(info, user))

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Send a password reset link to the account's email (or phone number). The answer is "
        "the same, and as quick, whether or not the account exists. Rate-limited.",
    )
    async def request_password_reset(
        self,
        info: Info,
        input: Annotated[
            RequestPasswordResetInput,
            strawberry.argument(description="The tenant and the account's email or phone."),
        ],
    ) -> PasswordResetRequestPayload:
        call = verification.request_password_reset(
            info.context.services, input.tenant_slug, input.email, input.phone
        )
        return await mutation_payload(
            PasswordResetRequestPayload, call, lambda _: PasswordResetRequestPayload(accepted=True)
        )

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Set a new password with the token of a reset link (single use). Clears a required "
        "password change and ends every session of the account: sign in again.",
    )
    async def reset_password(
        self,
        info: Info,
        input: Annotated[
            ResetPasswordInput, strawberry.argument(description="The link's token and the new password.")
        ],
    ) -> PasswordResetPayload:
        call = verification.reset_password(
            info.context.services, input.tenant_slug, input.token, input.new_password
        )
        return await mutation_payload(
            PasswordResetPayload, call, lambda _: PasswordResetPayload(password_reset=True)
        )
