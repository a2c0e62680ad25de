"""Phone numbers: the one canonical form (E.164) every account's number is stored and looked up by.

E.164 is "+", a country code that does not start with 0, and at most 15 digits in all. Input is
taken in international form only ("+49 30 1234567", "0049 30 1234567", "+1 (555) 010-9999"):
without a country code a number means nothing to a platform with tenants in many countries, so no
region is guessed. Spaces, dots, hyphens, slashes and parentheses are ignored; fullwidth and other
compatibility digits fold to ASCII (NFKC). Whether the number exists is for the SMS to find out.
"""

from __future__ import annotations

import re
import unicodedata

MAX_PHONE_INPUT_LENGTH = 32  # the longest spelling worth reading ("+" and 15 digits, spaced out)
# Fewer digits (country code included) make no dialable number anywhere.
MIN_E164_DIGITS = 7
MAX_E164_DIGITS = 15

_SEPARATORS = re.compile(r"[\s.\-/()]")
_E164 = re.compile(rf"\+[1-9][0-9]{{{MIN_E164_DIGITS - 1},{MAX_E164_DIGITS - 1}}}")


def parse_phone(raw: str) -> str | None:
    """The number in E.164 form, or None when it is not an international phone number."""
    text = raw.strip()
    if not text or len(text) > MAX_PHONE_INPUT_LENGTH:
        return None
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if text.startswith("00"):
        text = "+" + text[2:]
    # fullmatch with an ASCII class: no other script's digits get through.
    return text if _E164.fullmatch(text) else None


def masked_phone(number: str) -> str:
    """An E.164 number shown with all but its country prefix and last two digits hidden."""
    return number[:3] + "*" * max(0, len(number) - 5) + number[-2:]
