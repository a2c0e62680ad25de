"""The ``code`` of every userError of the notification mutations."""

from __future__ import annotations

import enum


class NotificationErrorCode(enum.StrEnum):
    NOT_FOUND = "NOT_FOUND"  # a notification id that is not one of yours
    TOO_MANY = "TOO_MANY"  # more ids or recipients than one call takes
    REQUIRED = "REQUIRED"  # an empty title or no recipients
    TOO_LONG = "TOO_LONG"  # a title, body, link or data over its maximum
    INVALID_LINK = "INVALID_LINK"  # neither an https URL nor a path of the app
    USER_NOT_FOUND = "USER_NOT_FOUND"  # a recipient that is no user of the tenant
    DUPLICATE = "DUPLICATE"  # the same type and channel twice in one update
    INVALID_SUBSCRIPTION = "INVALID_SUBSCRIPTION"  # a push endpoint or key that does not hold
