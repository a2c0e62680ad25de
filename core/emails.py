"""Email addresses: the one canonical form every account is stored and looked up by, and the
confusable skeleton that keeps look-alike accounts out of a tenant.

Canonical form: NFKC (fullwidth and other compatibility letters fold to their plain form), stripped,
lower case, the domain IDNA-encoded (``xn--``), at most 254 characters (RFC 5321 path limit).
Skeleton: Unicode TR39 section 4 over the local part and the Unicode domain, each character mapped
to its prototype from the Unicode confusables table (shipped by confusable_homoglyphs); stored as
its SHA-256 so the column and its index stay small whatever the expansion.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from dataclasses import dataclass

import idna
from confusable_homoglyphs.categories import unique_aliases  # type: ignore[import-untyped]
from confusable_homoglyphs.confusables import confusables_data  # type: ignore[import-untyped]
from email_validator import EmailNotValidError, validate_email

from core.lengths import MAX_EMAIL_LENGTH

# Artefacts of the confusables table's generator around right-to-left characters.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")
# Scripts a character may belong to without making a string mixed: digits, punctuation, marks.
_SHARED_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# TR39 "highly restrictive": one script, or Latin with the scripts East Asian writing combines.
_SCRIPT_COMBINATIONS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def _prototypes() -> dict[str, str]:
    """Source character -> prototype. The library's table is symmetric (each pair both ways);
    TR39 sources are single characters that never are prototypes, so a character whose one partner
    has several partners of its own, or is a sequence, is a source. A pair of two characters known
    only to each other has no direction left: both map to the lower one, which keeps equality."""
    table = {
        key.translate(_DIRECTION_MARKS): [entry["c"].translate(_DIRECTION_MARKS) for entry in entries]
        for key, entries in confusables_data.items()
    }
    prototypes: dict[str, str] = {}
    for char, partners in table.items():
        if len(char) != 1 or len(partners) != 1:
            continue
        partner = partners[0]
        if len(partner) > 1 or len(table.get(partner, ())) > 1 or partner < char:
            prototypes[char] = partner
    return prototypes


_PROTOTYPES = _prototypes()


def skeleton(text: str) -> str:
    """TR39 skeleton: NFD, every character replaced by its prototype, NFD again; after NFKC and
    lower case, as addresses are compared (the table leaves fullwidth letters to NFKC), so that an
    address stored before normalisation meets its canonical look-alike."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).lower())
    return unicodedata.normalize("NFD", "".join(_PROTOTYPES.get(char, char) for char in decomposed))


def mixes_scripts(text: str) -> bool:
    scripts = unique_aliases(text) - _SHARED_SCRIPTS
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_COMBINATIONS)


@dataclass(frozen=True, slots=True)
class Email:
    address: str  # the canonical form: stored, compared, looked up
    skeleton: str  # SHA-256 hex of the confusable skeleton: equal for look-alike addresses
    mixed_script: bool  # the local part or a domain label mixes scripts


def parse_email(raw: str) -> Email | None:
    """The address in canonical form with its skeleton, or None when it is not an email address
    (over-long input is refused before any Unicode work)."""
    text = raw.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH:
        return None
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower()).strip()
    try:
        parsed = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    local, domain = parsed.local_part.lower(), parsed.domain.lower()
    address = f"{local}@{parsed.ascii_domain.lower()}"
    if len(address) > MAX_EMAIL_LENGTH:
        return None
    return Email(
        address=address,
        skeleton=email_skeleton(address),
        mixed_script=mixes_scripts(local) or any(mixes_scripts(label) for label in domain.split(".")),
    )


def email_skeleton(address: str) -> str:
    """The skeleton digest of a stored address (its domain back in Unicode: a look-alike domain
    differs in its ``xn--`` form but not in its skeleton)."""
    local, _, domain = address.rpartition("@")
    # Not an IDNA name (an address stored before normalisation): its text as it is.
    with contextlib.suppress(UnicodeError):  # idna.IDNAError and the codec errors under it
        domain = idna.decode(domain)
    return hashlib.sha256(f"{skeleton(local)}@{skeleton(domain)}".encode()).hexdigest()
