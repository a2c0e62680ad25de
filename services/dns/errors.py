"""The userError codes of DNS mutations."""

from __future__ import annotations

import enum


class DnsErrorCode(enum.StrEnum):
    REQUIRED = "REQUIRED"  # a field the record type needs is missing
    TOO_LONG = "TOO_LONG"
    INVALID_ZONE_NAME = "INVALID_ZONE_NAME"
    ZONE_TAKEN = "ZONE_TAKEN"  # the zone is hosted here already (by whom is not told)
    INVALID_NAME = "INVALID_NAME"  # a record name that is no DNS name
    NAME_OUTSIDE_ZONE = "NAME_OUTSIDE_ZONE"
    INVALID_TTL = "INVALID_TTL"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    INVALID_TARGET = "INVALID_TARGET"  # a hostname content (CNAME, MX, NS, SRV, PTR) that is none
    INVALID_PRIORITY = "INVALID_PRIORITY"
    INVALID_WEIGHT = "INVALID_WEIGHT"
    INVALID_PORT = "INVALID_PORT"
    INVALID_TEXT = "INVALID_TEXT"
    INVALID_CAA = "INVALID_CAA"
    INVALID_SOA = "INVALID_SOA"
    NOT_APPLICABLE = "NOT_APPLICABLE"  # a field the record type does not take
    CNAME_AT_APEX = "CNAME_AT_APEX"
    CNAME_CONFLICT = "CNAME_CONFLICT"  # a CNAME shares its name with another record
    APEX_NS_MANAGED = "APEX_NS_MANAGED"  # the apex NS are the assigned nameservers
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    TOO_MANY_RECORDS = "TOO_MANY_RECORDS"
    TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
    NOT_FOUND = "NOT_FOUND"  # a record, template or address out of reach
    ZONE_SUSPENDED = "ZONE_SUSPENDED"
    ZONE_FILE_TOO_LARGE = "ZONE_FILE_TOO_LARGE"
    ZONE_FILE_SYNTAX = "ZONE_FILE_SYNTAX"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    TEMPLATE_TAKEN = "TEMPLATE_TAKEN"
    ADDRESS_TAKEN = "ADDRESS_TAKEN"  # the IP address is allocated already
    ADDRESS_NOT_ALLOCATED = "ADDRESS_NOT_ALLOCATED"  # not one of the tenant's addresses
