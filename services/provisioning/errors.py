"""The ``code`` of every userError of the provisioning mutations."""

from __future__ import annotations

import enum


class ProvisioningErrorCode(enum.StrEnum):
    INVALID_TRANSITION = "INVALID_TRANSITION"  # the state machine forbids the move
    INVALID_PARAMETERS = "INVALID_PARAMETERS"  # not a JSON object, too large or nested too deep
    TOO_LONG = "TOO_LONG"  # a reason over its maximum
    PRODUCT_REQUIRED = "PRODUCT_REQUIRED"  # neither a product nor a plan named
    PRODUCT_NOT_PROVISIONED = "PRODUCT_NOT_PROVISIONED"  # unknown, or a product that needs no provisioning
    PLAN_NOT_FOUND = "PLAN_NOT_FOUND"
    NOT_MANUAL = "NOT_MANUAL"  # completeManualProvisioning of a request the workers run
    NO_STEP_LEFT = "NO_STEP_LEFT"  # advance: every step is done already
    NOT_RETRYABLE = "NOT_RETRYABLE"  # retryOperation of an operation that has not FAILED
