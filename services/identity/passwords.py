"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.lengths import MAX_PASSWORD_LENGTH

MIN_PASSWORD_LENGTH = 8

# The most used passwords of public breach lists; a small list catches most guesses.
COMMON_PASSWORDS = frozenset(
    [
        "123456",
        "123456789",
        "12345678",
        "password",
        "qwerty123",
        "qwerty",
        "1234567890",
        "1234567",
        "111111",
        "123123",
        "password1",
        "abc123",
        "iloveyou",
        "000000",
        "qwertyuiop",
        "11111111",
        "password123",
        "admin123",
        "letmein",
        "welcome",
        "welcome1",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "trustno1",
        "passw0rd",
        "1q2w3e4r",
        "zaq12wsx",
        "superman",
        "starwars",
        "master123",
        "changeme",
        "qazwsx",
        "asdfghjkl",
        "987654321",
        "administrator",
        "p@ssw0rd",
        "p@ssword",
        "secret123",
        "whatever",
        "freedom",
        "shadow",
        "michael",
        "jennifer",
    ]
)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long."
    if password.lower() in COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False  # no password is this long: not worth argon2's time
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Argon2 takes ~0.1-0.2 s of CPU by design; off the event loop, other requests keep flowing
# (argon2-cffi releases the GIL while hashing).
async def hash_password_in_thread(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_in_thread(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
