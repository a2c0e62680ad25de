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
    TEMPLATE_SYNTAX = "TEMPLATE_SYNTAX"  # a template that does not parse (or fails as it renders)
    TEMPLATE_UNDEFINED = "TEMPLATE_UNDEFINED"  # a template naming a variable that does not exist
    TEMPLATE_FORBIDDEN = "TEMPLATE_FORBIDDEN"  # a template reaching outside the sandbox
    TEMPLATE_TOO_LARGE = "TEMPLATE_TOO_LARGE"  # a result too long, or too slow to render
