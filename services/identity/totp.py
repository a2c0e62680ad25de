"""TOTP (RFC 6238, pyotp) and its secrets at rest: codes checked once per time step, secrets
encrypted with AES-GCM, recovery codes and challenges made and hashed."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
import uuid

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Authenticator apps' defaults (Google Authenticator, 1Password, ...): 6 digits, 30 s, SHA-1.
DIGITS = 6
INTERVAL_SECONDS = 30
# Codes of the step before and after now are accepted too (clock drift of the phone).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
NONCE_BYTES = 12


class UnreadableSecret(Exception):
    """The stored secret does not decrypt with this key (the mfa_encryption_key changed)."""


@functools.cache
def _cipher(key: str) -> AESGCM:
    # The setting is a passphrase of any length: HKDF makes a 256-bit AES key of it.
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"tenantgraph mfa secret").derive(
        key.encode()
    )
    return AESGCM(derived)


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def encrypt_secret(key: str, user_id: uuid.UUID, secret: str) -> str:
    """The secret sealed for one user: a ciphertext copied to another user's row does not open."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, secret.encode(), user_id.bytes)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(key: str, user_id: uuid.UUID, ciphertext: str) -> str:
    raw = base64.urlsafe_b64decode(ciphertext.encode())
    try:
        return _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], user_id.bytes).decode()
    except InvalidTag as exc:
        raise UnreadableSecret from exc


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code) to add the account."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def matching_step(secret: str, code: str, after_step: int | None, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (now or a drift step away), if it is later than
    ``after_step`` (the last step accepted: a code is good once); None otherwise."""
    code = "".join(code.split())
    # ASCII only: other scripts' digits pass isdigit, and compare_digest raises on them.
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS)
    current = int((time.time() if now is None else now) // INTERVAL_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (after_step is None or step > after_step):
            return step
    return None


def code_was_used(secret: str, code: str, after_step: int | None, now: float | None = None) -> bool:
    """Whether ``code`` is right but its step was already used (a replay, not a wrong code)."""
    return after_step is not None and matching_step(secret, code, None, now) is not None


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k3v9q-x2m7p`` (50 random bits each), shown once."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:10]
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def hash_recovery_code(user_id: uuid.UUID, code: str) -> str:
    # Normalised (case, spaces, hyphen) as people type them; random codes need no slow hash, and
    # attempts are rate-limited.
    typed = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"{user_id}:{typed}".encode()).hexdigest()


def new_challenge() -> str:
    return "mfa_" + secrets.token_urlsafe(32)


def hash_challenge(challenge: str) -> str:
    # 256 random bits: a fast hash is enough.
    return hashlib.sha256(challenge.encode()).hexdigest()
