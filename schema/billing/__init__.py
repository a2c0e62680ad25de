"""Billing types: invoices, payments, refunds, payment methods, plans and billing subscriptions
(federation entities and Relay nodes), outgoing mail, statistics, inputs and payloads."""
