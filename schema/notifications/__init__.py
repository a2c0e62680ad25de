"""Notification types, inputs and payloads."""
