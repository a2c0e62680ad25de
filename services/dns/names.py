"""DNS names: zone names, record owner names (relative to their zone) and target hostnames, all
stored in IDNA (punycode) form, lower case, without the final dot.

Unicode names are encoded with dnspython's IDNA codec (the ``idna`` package, IDNA 2008); every
label is at most 63 characters and a whole name at most 253."""

from __future__ import annotations

import re

import dns.exception
import dns.name

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
APEX = "@"

# A zone's labels: letters, digits and inner hyphens (punycode "xn--" included).
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Record names and targets may also hold service labels (_sip, _dmarc, _domainkey ...).
_RECORD_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


class BadName(ValueError):
    """Not a DNS name of the kind asked for; the message says why, for a person to read."""


def _labels(raw: str) -> list[str]:
    text = raw.strip().rstrip(".")
    if not text:
        raise BadName("The name is empty.")
    try:
        name = dns.name.from_text(text + ".")
    except dns.name.LabelTooLong as exc:
        raise BadName(f"A label is longer than {MAX_LABEL_LENGTH} characters.") from exc
    except dns.name.NameTooLong as exc:
        raise BadName(f"The name is longer than {MAX_NAME_LENGTH} characters.") from exc
    except dns.name.EmptyLabel as exc:
        raise BadName("The name has an empty label (two dots in a row).") from exc
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise BadName("Not a valid (internationalised) domain name.") from exc
    labels = []
    for label in name.labels[:-1]:
        try:
            labels.append(label.decode("ascii").lower())
        except UnicodeDecodeError as exc:
            raise BadName("The name holds characters a hostname cannot.") from exc
    if len(".".join(labels)) > MAX_NAME_LENGTH:
        raise BadName(f"The name is longer than {MAX_NAME_LENGTH} characters.")
    return labels


def zone_name(raw: str) -> str:
    """A zone's FQDN: at least two labels of letters, digits and inner hyphens."""
    labels = _labels(raw)
    if len(labels) < 2:
        raise BadName("A zone has at least two labels, e.g. example.com.")
    if not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise BadName("Zone labels take letters, digits and inner hyphens.")
    return ".".join(labels)


def target_name(raw: str) -> str:
    """A hostname a record points at (CNAME, MX, NS, SRV, PTR): always fully qualified."""
    labels = _labels(raw)
    if not all(_RECORD_LABEL.match(label) for label in labels):
        raise BadName("Hostname labels take letters, digits, inner hyphens and underscores.")
    return ".".join(labels)


def owner_name(raw: str, zone: str) -> str:
    """A record's name relative to ``zone`` ("@" for the apex).

    "@" and "" are the apex; a name with a final dot is absolute and must lie inside the zone; one
    without is relative, unless it already ends with the zone's name (then it is taken as written)."""
    text = raw.strip()
    if text in ("", APEX):
        return APEX
    absolute = text.endswith(".")
    labels = _labels(text)
    full = ".".join(labels)
    if absolute or full == zone or full.endswith("." + zone):
        if full != zone and not full.endswith("." + zone):
            raise NameOutsideZone(f"{full} is not inside the zone {zone}.")
        relative = full[: -len(zone)].rstrip(".")
    else:
        relative = full
    if not relative:
        return APEX
    parts = relative.split(".")
    for position, label in enumerate(parts):
        if not (label == "*" and position == 0) and not _RECORD_LABEL.match(label):
            raise BadName("Record names take letters, digits, inner hyphens, underscores and a leading '*'.")
    if len(relative) + 1 + len(zone) > MAX_NAME_LENGTH:
        raise BadName(f"The full name is longer than {MAX_NAME_LENGTH} characters.")
    return relative


class NameOutsideZone(BadName):
    """An absolute name that does not end with the zone's name."""


def absolute(owner: str, zone: str) -> str:
    """The FQDN of a relative owner name (no final dot)."""
    return zone if owner == APEX else f"{owner}.{zone}"


def display(name: str) -> str:
    """A stored IDNA name as people read it (Unicode), for messages and the schema."""
    try:
        return dns.name.from_text(name + ".").to_unicode(omit_final_dot=True)
    except (dns.exception.DNSException, UnicodeError):
        return name
