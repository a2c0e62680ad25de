"""Plans and billing subscriptions (recurring invoices), and their renewal.

A subscription bills in advance: subscribing, changing plan, resuming after the period ran out and
every renewal start a period and create its invoice, issued at once (OPEN). Changing plan starts a
new period on the new plan from now; the unused part of the old period is not prorated. Cancelling
"at period end" lets the period run out (the renewal job then cancels); cancelling "now" ends it at
once. A paused subscription is not renewed."""

from __future__ import annotations

import calendar
import enum
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.lengths import MAX_NAME_LENGTH
from core.permissions import BILLING_ADMINS
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.billing import BillingSubscription, Invoice, InvoiceStatus, Plan, PlanInterval, SubscriptionStatus
from models.db import Database
from models.identity.accounts import User
from services.billing.access import locked_to_change, visible
from services.billing.errors import BillingErrorCode
from services.billing.invoices import LineSpec, move_invoice, new_invoice
from services.context import ServiceContext
from services.events import record_event
from services.money import amount_problem, currency_problem
from services.orders import pricing, promotions

SUBSCRIPTION_CHANGED = "billing_subscription.changed"
LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)
MAX_PLAN_CODE_LENGTH = 64
_CODE = re.compile(rf"^[a-z0-9][a-z0-9._-]{{0,{MAX_PLAN_CODE_LENGTH - 1}}}$")
# A renewal job that was away for long catches up at most this many periods per subscription.
MAX_CATCH_UP_PERIODS = 24


def add_interval(moment: datetime, interval: PlanInterval) -> datetime:
    """One month or year later; the 31st becomes the last day of a shorter month."""
    months = 1 if interval == PlanInterval.MONTH else 12
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# ---- plans ------------------------------------------------------------------------------------


async def create_plan(
    ctx: ServiceContext, *, code: str, name: str, amount: int, currency: str, interval: PlanInterval
) -> Plan:
    principal = ctx.require_role(*BILLING_ADMINS)
    code = code.strip().lower()
    name = name.strip()
    problems = [
        p
        for p in (
            None
            if _CODE.match(code)
            else FieldProblem(
                ("input", "code"),
                BillingErrorCode.INVALID_CODE,
                f"Codes are 1-{MAX_PLAN_CODE_LENGTH} of a-z, 0-9, '.', '_', '-'.",
            ),
            None
            if 0 < len(name) <= MAX_NAME_LENGTH
            else FieldProblem(
                ("input", "name"),
                BillingErrorCode.INVALID_NAME,
                f"Give a name of 1-{MAX_NAME_LENGTH} characters.",
            ),
            amount_problem("price.amount", amount, allow_zero=False),
            currency_problem("price.currency", currency),
        )
        if p
    ]
    if problems:
        raise InvalidInput(*problems)
    async with ctx.transaction() as session:
        if await session.scalar(select(Plan.id).where(Plan.code == code)):
            raise invalid(
                "code", BillingErrorCode.PLAN_CODE_TAKEN, "Another plan of this tenant has this code."
            )
        plan = Plan(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            code=code,
            name=name,
            amount=amount,
            currency=currency,
            interval=interval,
            active=True,
        )
        session.add(plan)
        await session.flush()
        return plan


async def list_plans(ctx: ServiceContext, active: bool | None, page: PageArgs) -> Page[Plan]:
    """Active plans for everyone; admins may also list inactive ones."""
    principal = ctx.require_principal()
    statement = select(Plan)
    if not principal.has_any_role(*BILLING_ADMINS):
        active = True
    if active is not None:
        statement = statement.where(Plan.active.is_(active))

    return await paginate(ctx.read, statement, SortKey(Plan.created_at, Plan.id), page)


# ---- billing subscriptions --------------------------------------------------------------------


def _changed(session: AsyncSession, subscription: BillingSubscription, change: str) -> None:
    record_event(
        session,
        topic=SUBSCRIPTION_CHANGED,
        tenant_id=subscription.tenant_id,
        payload={
            "subscriptionId": str(subscription.id),
            "userId": str(subscription.user_id),
            "planId": str(subscription.plan_id),
            "status": subscription.status.value,
            "change": change,
        },
    )


async def _period_invoice(
    session: AsyncSession, subscription: BillingSubscription, plan: Plan, discount: int = 0
) -> Invoice:
    """The invoice of the subscription's current period, issued (billing is in advance)."""
    start, end = subscription.current_period_start, subscription.current_period_end
    line = LineSpec(
        f"{plan.name}: {start:%Y-%m-%d} to {end:%Y-%m-%d}", 1, plan.amount, discount_amount=discount
    )
    invoice = await new_invoice(
        session,
        tenant_id=subscription.tenant_id,
        customer_id=subscription.user_id,
        currency=plan.currency,
        lines=[line],
        subscription_id=subscription.id,
        issue=True,
    )
    if invoice.total == 0:  # a 100 % promotion code: nothing is due, so nothing can fall overdue
        move_invoice(session, invoice, InvoiceStatus.PAID)
    return invoice


def _start_period(subscription: BillingSubscription, plan: Plan, start: datetime) -> None:
    subscription.current_period_start = start
    subscription.current_period_end = add_interval(start, plan.interval)


async def _start_invoiced_period(
    session: AsyncSession, subscription: BillingSubscription, plan: Plan, start: datetime
) -> Invoice:
    """The next period, invoiced less what it can take of the subscription's plan credit."""
    _start_period(subscription, plan, start)
    credit = subscription.credit_minor if subscription.credit_currency == plan.currency else 0
    used = min(credit, plan.amount)
    subscription.credit_minor -= used
    return await _period_invoice(session, subscription, plan, used)


async def subscription_to_credit(
    session: AsyncSession, user_id: uuid.UUID, currency: str
) -> BillingSubscription | None:
    """The buyer's live subscription that a PLAN_CREDIT refund in ``currency`` goes to: of a plan
    in that currency, the next to renew; None when there is none."""
    found: BillingSubscription | None = await session.scalar(
        select(BillingSubscription)
        .join(Plan, Plan.id == BillingSubscription.plan_id)
        .where(
            BillingSubscription.user_id == user_id,
            BillingSubscription.status.in_(LIVE),
            Plan.currency == currency,
            # Credit left in another currency (the plan changed since) is never mixed with it.
            or_(BillingSubscription.credit_minor == 0, BillingSubscription.credit_currency == currency),
        )
        .order_by(BillingSubscription.current_period_end, BillingSubscription.id)
        .limit(1)
        .with_for_update(of=BillingSubscription)
    )
    return found


def add_credit(session: AsyncSession, subscription: BillingSubscription, amount: int, currency: str) -> None:
    """Credit on the locked ``subscription``, taken off its next periods' invoices."""
    subscription.credit_minor += amount
    subscription.credit_currency = currency
    _changed(session, subscription, "credited")


async def _plan(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("Plan")
    return plan


async def _active_plan(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan = await _plan(session, plan_id)
    if not plan.active:
        raise invalid("planId", BillingErrorCode.PLAN_INACTIVE, "This plan is no longer offered.")
    return plan


async def subscribe_user(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    plan: Plan,
    promotion_code: str | None = None,
) -> tuple[BillingSubscription, Invoice]:
    """A new ACTIVE subscription and its first period's invoice, in the caller's transaction (the
    caller holds the user's row lock); a promotion code for the plan discounts that first period
    (services/orders/promotions.py: its use is taken under the code's row lock)."""
    live = await session.scalar(
        select(BillingSubscription.id).where(
            BillingSubscription.user_id == user_id,
            BillingSubscription.plan_id == plan.id,
            BillingSubscription.status.in_(LIVE),
        )
    )
    if live:
        raise invalid("planId", BillingErrorCode.ALREADY_SUBSCRIBED, "You already subscribe to this plan.")
    code = (promotion_code or "").strip()
    taken = await promotions.claim_plan_code(session, user_id=user_id, code=code, plan=plan) if code else None
    discount = pricing.discount_amount(plan.amount, taken.discount) if taken else 0
    now = utcnow()
    subscription = BillingSubscription(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        plan_id=plan.id,
        status=SubscriptionStatus.ACTIVE,
        cancel_at_period_end=False,
    )
    _start_period(subscription, plan, now)
    session.add(subscription)
    await session.flush()
    invoice = await _period_invoice(session, subscription, plan, discount)
    if taken is not None:
        promotions.record_plan_use(session, subscription, taken, discount)
    _changed(session, subscription, "subscribed")
    return subscription, invoice


async def subscribe(
    ctx: ServiceContext, plan_id: uuid.UUID, promotion_code: str | None = None
) -> tuple[BillingSubscription, Invoice]:
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        if await session.get(User, principal.user_id, with_for_update=True) is None:
            raise NotFound("User")
        plan = await _active_plan(session, plan_id)
        return await subscribe_user(session, principal.tenant_id, principal.user_id, plan, promotion_code)


async def _own_billing_subscription(
    session: AsyncSession, ctx: ServiceContext, subscription_id: uuid.UUID
) -> BillingSubscription:
    return await locked_to_change(
        session,
        ctx.require_principal(),
        BillingSubscription,
        subscription_id,
        "user_id",
        "Only the subscriber or an admin changes a subscription.",
    )


def _not_allowed(subscription: BillingSubscription, action: str) -> InvalidInput:
    return invalid(
        None,
        BillingErrorCode.INVALID_TRANSITION,
        f"A {subscription.status.value} subscription cannot be {action}.",
    )


async def cancel_billing_subscription(
    ctx: ServiceContext, subscription_id: uuid.UUID, *, at_period_end: bool
) -> BillingSubscription:
    async with ctx.transaction() as session:
        subscription = await _own_billing_subscription(session, ctx, subscription_id)
        if subscription.status not in LIVE:
            raise _not_allowed(subscription, "cancelled")
        if at_period_end:
            subscription.cancel_at_period_end = True
            _changed(session, subscription, "cancel_at_period_end")
        else:
            subscription.status = SubscriptionStatus.CANCELLED
            subscription.cancelled_at = utcnow()
            _changed(session, subscription, "cancelled")
        return subscription


async def pause_subscription(ctx: ServiceContext, subscription_id: uuid.UUID) -> BillingSubscription:
    async with ctx.transaction() as session:
        subscription = await _own_billing_subscription(session, ctx, subscription_id)
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise _not_allowed(subscription, "paused")
        subscription.status = SubscriptionStatus.PAUSED
        subscription.paused_at = utcnow()
        _changed(session, subscription, "paused")
        return subscription


async def resume_subscription(ctx: ServiceContext, subscription_id: uuid.UUID) -> BillingSubscription:
    """Back to ACTIVE; when the period ran out during the pause, a new one starts now (invoiced)."""
    async with ctx.transaction() as session:
        subscription = await _own_billing_subscription(session, ctx, subscription_id)
        if subscription.status != SubscriptionStatus.PAUSED:
            raise _not_allowed(subscription, "resumed")
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.paused_at = None
        now = utcnow()
        if subscription.current_period_end <= now:
            plan = await _plan(session, subscription.plan_id)
            await _start_invoiced_period(session, subscription, plan, now)
        _changed(session, subscription, "resumed")
        return subscription


async def change_plan(
    ctx: ServiceContext, subscription_id: uuid.UUID, plan_id: uuid.UUID
) -> tuple[BillingSubscription, Invoice]:
    async with ctx.transaction() as session:
        subscription = await _own_billing_subscription(session, ctx, subscription_id)
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise _not_allowed(subscription, "changed to another plan")
        if subscription.plan_id == plan_id:
            raise invalid("planId", BillingErrorCode.SAME_PLAN, "The subscription is already on this plan.")
        plan = await _active_plan(session, plan_id)
        subscription.plan_id = plan.id
        subscription.cancel_at_period_end = False
        invoice = await _start_invoiced_period(session, subscription, plan, utcnow())
        _changed(session, subscription, "plan_changed")
        return subscription, invoice


class SubscriptionOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    CURRENT_PERIOD_END = "CURRENT_PERIOD_END"


_ORDER_COLUMNS = {
    SubscriptionOrderField.CREATED_AT: BillingSubscription.created_at,
    SubscriptionOrderField.CURRENT_PERIOD_END: BillingSubscription.current_period_end,
}


@dataclass(frozen=True, slots=True)
class BillingSubscriptionFilter:
    status: SubscriptionStatus | None = None
    plan_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


async def list_billing_subscriptions(
    ctx: ServiceContext,
    subscription_filter: BillingSubscriptionFilter,
    order: SubscriptionOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[BillingSubscription]:
    """Your subscriptions; staff see the tenant's."""
    f = subscription_filter
    statement = where_given(
        visible(select(BillingSubscription), BillingSubscription.user_id, ctx.require_principal()),
        (BillingSubscription.status, f.status),
        (BillingSubscription.plan_id, f.plan_id),
        (BillingSubscription.user_id, f.user_id),
    )
    column = _ORDER_COLUMNS[order]

    return await paginate(ctx.read, statement, SortKey(column, BillingSubscription.id, descending), page)


# ---- renewal ----------------------------------------------------------------------------------


async def renew_due_billing_subscriptions(db: Database, now: datetime | None = None) -> int:
    """ACTIVE subscriptions whose period has ended: cancelled when so asked, otherwise rolled into
    the next period(s) with an invoice each. Returns how many subscriptions were handled."""
    now = now or utcnow()
    async with db.transaction(TenantScope.all_tenants()) as session:
        due = list(
            await session.scalars(
                select(BillingSubscription)
                .where(
                    BillingSubscription.status == SubscriptionStatus.ACTIVE,
                    BillingSubscription.current_period_end <= now,
                )
                .with_for_update(skip_locked=True)
            )
        )
        for subscription in due:
            if subscription.cancel_at_period_end:
                subscription.status = SubscriptionStatus.CANCELLED
                subscription.cancelled_at = now
                _changed(session, subscription, "cancelled")
                continue
            plan = await _plan(session, subscription.plan_id)
            for _ in range(MAX_CATCH_UP_PERIODS):
                if subscription.current_period_end > now:
                    break
                await _start_invoiced_period(session, subscription, plan, subscription.current_period_end)
            _changed(session, subscription, "renewed")
        return len(due)
