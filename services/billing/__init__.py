"""Billing: invoices and their PDF, the mail queue, payments through the provider adapter, refunds,
plans and billing subscriptions, the periodic billing jobs and inbound provider webhooks."""
