"""Stream keys: made at random, looked up by their SHA-256 on ingest, kept AES-GCM encrypted
(under the MFA encryption key, sealed to the stream's id) so that only its owner reads it back."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from services.identity.totp import decrypt_secret, encrypt_secret

KEY_PREFIX = "live_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def seal(encryption_key: str, stream_id: uuid.UUID, key: str) -> str:
    return encrypt_secret(encryption_key, stream_id, key)


def unseal(encryption_key: str, stream_id: uuid.UUID, ciphertext: str) -> str:
    return decrypt_secret(encryption_key, stream_id, ciphertext)
