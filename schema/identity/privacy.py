"""Privacy types: consent records and states, personal data export jobs, erasure and do-not-sell
inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from models.identity.privacy import ConsentPurpose, ConsentRecord, ConsentSource, DataExport, ExportStatus
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from services.identity.privacy import Consents, ConsentState

documented_enum(
    ConsentPurpose,
    "What a consent is for.",
    {
        ConsentPurpose.MARKETING_EMAILS: "Marketing emails and newsletters.",
        ConsentPurpose.ANALYTICS: "Usage analytics.",
        ConsentPurpose.PERSONALISATION: "Personalised recommendations and content.",
        ConsentPurpose.THIRD_PARTY_SHARING: "Sharing personal data with partners.",
        ConsentPurpose.SALE_OF_PERSONAL_DATA: "CCPA: selling personal data (not granted: do-not-sell).",
    },
)
documented_enum(
    ConsentSource,
    "Where a consent record came from.",
    {
        ConsentSource.USER: "recordConsent or setDoNotSell.",
        ConsentSource.GPC: "A signed-in request carrying Sec-GPC: 1 (Global Privacy Control).",
    },
)
documented_enum(
    ExportStatus,
    "Where a personal data export is: QUEUED -> RUNNING -> READY or FAILED.",
    {
        ExportStatus.QUEUED: "Waiting for a worker.",
        ExportStatus.RUNNING: "Being collected.",
        ExportStatus.READY: "Collected: the download link was mailed.",
        ExportStatus.FAILED: "Collecting failed (see error): request a new export.",
    },
    name="DataExportStatus",
)


@strawberry.type(description="One consent decision (records are only appended, never changed).")
class Consent:
    purpose: ConsentPurpose = strawberry.field(description="What it is for.")
    granted: bool = strawberry.field(description="Whether consent was given (false: refused or withdrawn).")
    source: ConsentSource = strawberry.field(description="Where the decision came from.")
    ip_address: str | None = strawberry.field(description="Where it was given from (null once erased).")
    user_agent: str | None = strawberry.field(
        description="The User-Agent it was given with (null once erased)."
    )
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")

    @classmethod
    def from_model(cls, row: ConsentRecord) -> Self:
        return cls(
            purpose=row.purpose,
            granted=row.granted,
            source=row.source,
            ip_address=row.ip_address,
            user_agent=row.user_agent,
            created_at=row.created_at,
        )


@strawberry.type(description="The current state of one purpose: its newest record's.")
class ConsentStatus:
    purpose: ConsentPurpose = strawberry.field(description="Which purpose this state is of.")
    granted: bool = strawberry.field(description="False for a purpose never decided.")
    decided_at: datetime | None = strawberry.field(
        description="When its newest record was made; null if never decided."
    )

    @classmethod
    def from_state(cls, state: ConsentState) -> Self:
        return cls(
            purpose=state.purpose,
            granted=state.granted,
            decided_at=state.record.created_at if state.record else None,
        )


@strawberry.type(description="Your consents: the state of every purpose, and every record.")
class MyConsents:
    current: list[ConsentStatus] = strawberry.field(description="Every purpose, in the enum's order.")
    history: list[Consent] = strawberry.field(description="Newest first.")

    @classmethod
    def from_consents(cls, consents: Consents) -> Self:
        return cls(
            current=[ConsentStatus.from_state(state) for state in consents.current],
            history=[Consent.from_model(row) for row in consents.history],
        )


@strawberry.type(description="An export of your personal data (GDPR Art. 20).")
class DataExportJob:
    id: strawberry.ID = strawberry.field(description="The export's id (as in its download link).")
    status: ExportStatus = strawberry.field(description="Where the export is.")
    created_at: datetime = strawberry.field(description="When it was requested (UTC).")
    started_at: datetime | None = strawberry.field(description="When a worker started collecting (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it became READY or FAILED (UTC).")
    link_expires_at: datetime | None = strawberry.field(
        description="Until when the mailed download link works (it works once)."
    )
    downloaded_at: datetime | None = strawberry.field(description="When the link was used (it works once).")
    error: str | None = strawberry.field(description="Why a FAILED export failed.")

    @classmethod
    def from_model(cls, row: DataExport) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            link_expires_at=row.token_expires_at,
            downloaded_at=row.downloaded_at,
            error=row.error,
        )


@strawberry.input(description="A consent decision for one purpose.")
class RecordConsentInput:
    purpose: ConsentPurpose = strawberry.field(description="What the decision is for.")
    granted: bool = strawberry.field(description="True to give consent, false to refuse or withdraw it.")


@strawberry.input(description="CCPA: opt out of (or back into) the sale of your personal data.")
class SetDoNotSellInput:
    opt_out: bool = strawberry.field(description="True: do not sell my personal data; false: opt back in.")


@strawberry.input(
    description="Confirm erasing your account: your password, or without one the current session."
)
class EraseMeInput:
    password: str | None = strawberry.field(default=None, description="Your password.")
    session_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For an account without a password (OAuth only): the id of the current session "
        "(mySessions' isCurrent one).",
    )


@strawberry.type(description="The answer of recordConsent and setDoNotSell.")
class ConsentPayload:
    consent: Consent | None = strawberry.field(default=None, description="The record appended.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer of requestDataExport.")
class DataExportPayload:
    export: DataExportJob | None = strawberry.field(default=None, description="The queued export.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer of eraseMe.")
class EraseMePayload:
    erased: bool = strawberry.field(default=False, description="Whether the account is anonymised now.")
    user_errors: list[UserError] = user_errors_field()
