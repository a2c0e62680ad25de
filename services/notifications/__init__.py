"""Notifications: rules that turn domain events into notifications before their transaction
commits (hooks.py), delivery by the recipients' preferences (delivery.py), the inbox (inbox.py)."""
