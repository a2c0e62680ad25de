"""Privacy resolvers: consent records, the do-not-sell opt-out, personal data exports, erasure."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from models.identity.privacy import ConsentRecord
from schema.directives import AUTHENTICATED, access
from schema.errors import mutation_payload
from schema.identity.privacy import (
    Consent,
    ConsentPayload,
    DataExportJob,
    DataExportPayload,
    EraseMeInput,
    EraseMePayload,
    MyConsents,
    RecordConsentInput,
    SetDoNotSellInput,
)
from schema.nodes import parse_uuid
from services.identity import data_export, privacy


def _consent_payload(row: ConsentRecord) -> ConsentPayload:
    return ConsentPayload(consent=Consent.from_model(row))


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your consents: the current state of every purpose and the history, newest first.",
    )
    async def my_consents(self, info: Info) -> MyConsents:
        return MyConsents.from_consents(await privacy.my_consents(info.context.services))

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your personal data exports with their status, newest first.",
    )
    async def my_data_exports(self, info: Info) -> list[DataExportJob]:
        return [DataExportJob.from_model(row) for row in await data_export.my_exports(info.context.services)]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Record a consent decision (appended to the history with time, IP and user agent).",
    )
    async def record_consent(
        self,
        info: Info,
        input: Annotated[RecordConsentInput, strawberry.argument(description="The decision.")],
    ) -> ConsentPayload:
        call = privacy.record_consent(info.context.services, input.purpose, input.granted)
        return await mutation_payload(ConsentPayload, call, _consent_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="CCPA: opt out of the sale of your personal data (optOut: false opts back in); "
        "recorded as a SALE_OF_PERSONAL_DATA consent.",
    )
    async def set_do_not_sell(
        self, info: Info, input: Annotated[SetDoNotSellInput, strawberry.argument(description="The choice.")]
    ) -> ConsentPayload:
        call = privacy.set_do_not_sell(info.context.services, input.opt_out)
        return await mutation_payload(ConsentPayload, call, _consent_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="GDPR Art. 20: export your personal data. A job collects it; a single-use download "
        "link is mailed when READY. One at a time: EXPORT_IN_PROGRESS while one is queued or running.",
    )
    async def request_data_export(self, info: Info) -> DataExportPayload:
        call = data_export.request_export(info.context.services)
        return await mutation_payload(
            DataExportPayload, call, lambda row: DataExportPayload(export=DataExportJob.from_model(row))
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="GDPR Art. 17: erase (anonymise) your account, confirmed by your password. Sessions "
        "and API keys end; orders, invoices and payments stay, pointing at the anonymised account.",
    )
    async def erase_me(
        self, info: Info, input: Annotated[EraseMeInput, strawberry.argument(description="The confirmation.")]
    ) -> EraseMePayload:
        session_id = parse_uuid(input.session_id, "Session") if input.session_id else None
        call = privacy.erase_me(info.context.services, password=input.password, session_id=session_id)
        return await mutation_payload(EraseMePayload, call, lambda _user: EraseMePayload(erased=True))
