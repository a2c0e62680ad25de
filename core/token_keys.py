"""The keys access tokens are signed and verified with, loaded once from the settings.

HS256/384/512 sign with a shared secret, which is never published. RS*/PS* (RSA, at least 2048
bits), ES256/384/512 (EC on the algorithm's own curve) and EdDSA (Ed25519 or Ed448) sign with a
private key (PEM); its public half, and earlier public keys still accepted during a rotation, are
the JWKS document third parties verify tokens with. Every key has a ``kid`` (RFC 7638 thumbprint
unless one is configured). Loading names every problem at once and ends with a sign-and-verify
round trip, which proves the algorithm runs here (``cryptography`` installed, key and algorithm
matching)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from core.principal import Principal

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
ALGORITHMS = (*HMAC_ALGORITHMS, *RSA_ALGORITHMS, *EC_CURVES, "EdDSA")
MIN_RSA_BITS = 2048
_EDWARDS_KEYS = (
    ed25519.Ed25519PrivateKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PrivateKey,
    ed448.Ed448PublicKey,
)

_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)
# RFC 7638: the members a thumbprint hashes, per key type.
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_ROUND_TRIP_CLAIMS = {"sub": "round-trip"}


class KeyProblems(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class TokenKeys:
    algorithm: str
    key_id: str
    signing_key: Any  # the HMAC secret, or a cryptography private key
    verifying_keys: Mapping[str, Any]  # by kid: the current key, then earlier public keys
    jwks: Mapping[str, Any]  # public keys only; no keys for HMAC
    # The principals services/identity/tokens.py read from tokens these keys verified, by token.
    verified: dict[str, Principal] = field(default_factory=dict, compare=False, repr=False)

    def candidates(self, kid: object) -> list[Any]:
        """The key a token names; every accepted key when it names none of ours (a token signed
        before kids were set, or with a kid chosen by the operator for a key rotated out)."""
        if isinstance(kid, str) and kid in self.verifying_keys:
            return [self.verifying_keys[kid]]
        return list(self.verifying_keys.values())


def thumbprint(jwk: Mapping[str, Any]) -> str:
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _describe(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"an RSA key of {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an EC key on {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "an Ed25519 key"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "an Ed448 key"
    return f"a {type(key).__name__}"


def _misfit(algorithm: str, key: object) -> str | None:
    """Why ``key`` cannot serve ``algorithm``, or None when it can."""
    if algorithm in RSA_ALGORITHMS:
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            return f"{algorithm} needs an RSA key"
        return f"{algorithm} needs at least {MIN_RSA_BITS} bits" if key.key_size < MIN_RSA_BITS else None
    if algorithm in EC_CURVES:
        curve = EC_CURVES[algorithm]
        fits = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
            key.curve, curve
        )
        return None if fits else f"{algorithm} needs an EC key on {curve.name}"
    return None if isinstance(key, _EDWARDS_KEYS) else "EdDSA needs an Ed25519 or Ed448 key"


def _pem(text: str) -> bytes:
    # Environments that cannot hold newlines often carry them as a literal "\n".
    return text.replace("\\n", "\n").strip().encode()


def _public_jwk(algorithm: str, key: Any, kid: str | None) -> dict[str, Any]:
    jwk: dict[str, Any] = dict(jwt.get_algorithm_by_name(algorithm).to_jwk(key, as_dict=True))
    jwk.update(kid=kid or thumbprint(jwk), alg=algorithm, use="sig")
    return jwk


def _round_trip(keys: TokenKeys) -> str | None:
    try:
        probe = jwt.encode(
            _ROUND_TRIP_CLAIMS, keys.signing_key, algorithm=keys.algorithm, headers={"kid": keys.key_id}
        )
        jwt.decode(probe, keys.verifying_keys[keys.key_id], algorithms=[keys.algorithm])
    except (jwt.PyJWTError, NotImplementedError, ValueError, TypeError) as exc:
        return f"{keys.algorithm} tokens cannot be signed and verified here: {exc}"
    return None


def _hmac_keys(algorithm: str, secret: str, key_id: str) -> TokenKeys:
    kid = key_id or thumbprint(dict(jwt.get_algorithm_by_name(algorithm).to_jwk(secret, as_dict=True)))
    return TokenKeys(algorithm, kid, secret, {kid: secret}, {"keys": []})


def _asymmetric_keys(
    algorithm: str, private_pem: str, public_pems: str, key_id: str, problems: list[str]
) -> TokenKeys | None:
    try:
        private = serialization.load_pem_private_key(_pem(private_pem), password=None)
    except (ValueError, TypeError) as exc:
        problems.append(f"TENANTGRAPH_JWT_PRIVATE_KEY is not an unencrypted PEM private key ({exc})")
        return None
    if (misfit := _misfit(algorithm, private)) is not None:
        problems.append(f"TENANTGRAPH_JWT_PRIVATE_KEY is {_describe(private)}; {misfit}")
        return None
    current = _public_jwk(algorithm, private.public_key(), key_id)
    jwks, verifying = [current], {current["kid"]: private.public_key()}
    for number, block in enumerate(_PEM_BLOCK.findall(public_pems.replace("\\n", "\n")), start=1):
        try:
            public = serialization.load_pem_public_key(block.encode())
        except ValueError as exc:
            problems.append(f"TENANTGRAPH_JWT_PUBLIC_KEYS key {number} is not a PEM public key ({exc})")
            continue
        if (misfit := _misfit(algorithm, public)) is not None:
            problems.append(f"TENANTGRAPH_JWT_PUBLIC_KEYS key {number} is {_describe(public)}; {misfit}")
            continue
        jwk = _public_jwk(algorithm, public, None)
        if jwk["kid"] not in verifying:
            jwks.append(jwk)
            verifying[jwk["kid"]] = public
    return TokenKeys(algorithm, current["kid"], private, verifying, {"keys": jwks})


def load_token_keys(
    algorithm: str, secret: str, private_pem: str, public_pems: str, key_id: str
) -> TokenKeys:
    """The keys for ``algorithm``; KeyProblems naming everything that keeps them from working."""
    problems: list[str] = []
    keys: TokenKeys | None = None
    if algorithm not in ALGORITHMS:
        problems.append(f"TENANTGRAPH_JWT_ALGORITHM {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    elif algorithm in HMAC_ALGORITHMS:
        for name, value in (("PRIVATE_KEY", private_pem), ("PUBLIC_KEYS", public_pems)):
            if value.strip():
                problems.append(
                    f"TENANTGRAPH_JWT_{name} is set but TENANTGRAPH_JWT_ALGORITHM is {algorithm}, which "
                    "signs with TENANTGRAPH_JWT_SIGNING_KEY; choose RS256, ES256 or EdDSA to use keys"
                )
        keys = _hmac_keys(algorithm, secret, key_id)
    elif not private_pem.strip():
        problems.append(
            f"TENANTGRAPH_JWT_ALGORITHM is {algorithm} but no private key is set "
            "(TENANTGRAPH_JWT_PRIVATE_KEY or TENANTGRAPH_JWT_PRIVATE_KEY_FILE, PEM)"
        )
    else:
        keys = _asymmetric_keys(algorithm, private_pem, public_pems, key_id, problems)
    if keys is not None and (failed := _round_trip(keys)) is not None:
        problems.append(failed)
    if problems or keys is None:
        raise KeyProblems(problems)
    return keys
