"""The token Fatture in Cloud puts on every webhook request: an ES256 JWT.

Fatture in Cloud's webhooks (docs: webhooks/notifications, "Validate the requests") carry
``Authorization: Bearer <JWT>`` on the verification GET and on every notification; the JWT
is signed with ES256 by a private key Fatture in Cloud keeps for this alone, and verified
with the public key the docs publish (:data:`FIC_WEBHOOK_PUBLIC_KEY`, base64 of a PEM). Its
claims: ``jti`` (the notification's ``ce-id``), ``iss`` (``https://api-v2.fattureincloud.it``),
``exp`` (3 hours after), ``sub`` (``company:<id>``, as ``ce-subject``), ``aud`` (a list
holding the subscription's sink), ``iat`` and ``aid`` (the application's id).

The JWS is done here with ``cryptography`` (already a dependency of the core) rather than a
JWT library: one algorithm, one key type, a few lines. Only ``ES256`` is accepted, whatever
the token's header says, so that a token with ``alg: none`` or an HMAC made with the public
key as a secret (the classic algorithm confusion) is refused. The emulator signs with
:func:`sign`, the connector checks with :func:`verify`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "FIC_WEBHOOK_PUBLIC_KEY",
    "ISSUER",
    "BadToken",
    "load_public_key",
    "public_key_text",
    "sign",
    "verify",
]

#: the public key of Fatture in Cloud's webhook tokens, base64 of a PEM, as the docs publish
#: it (webhooks/notifications, "Validate the requests"): an EC P-256 key
FIC_WEBHOOK_PUBLIC_KEY = (
    "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFL1Jv"
    "SElqZ1k3aGZYZlk1cC9KeStLL0ZndU1aNAozVHZaOXQ0ZU43K2t4UTBNSnpLdG93djRDY1lURnFyQm03aE1CNVpX"
    "S25xTHoyNEQ2bFFqU0wwWXN3PT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg=="
)
#: the tokens' ``iss``: the API's host
ISSUER = "https://api-v2.fattureincloud.it"
#: seconds of clock difference tolerated on ``exp`` and ``iat``
LEEWAY = 60
_COORDINATE = 32  # bytes of r and of s in a P-256 signature


class BadToken(ValueError):
    """A token that is not a valid ES256 JWT of the expected key (the message says why)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadToken("it is not base64url") from None


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a PEM, or from base64 of a PEM as the docs publish it."""
    raw = text.strip()
    if "-----BEGIN" not in raw:
        try:
            raw = base64.b64decode(raw, validate=True).decode("ascii")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise ValueError("not a PEM public key, nor base64 of one") from None
    try:
        key = serialization.load_pem_public_key(raw.encode("ascii"))
    except ValueError:
        raise ValueError("not a PEM public key, nor base64 of one") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an EC P-256 public key (Fatture in Cloud signs with ES256)")
    return key


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The public half of ``key`` in the form the docs publish: base64 of its PEM."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(pem).decode("ascii")


def sign(key: ec.EllipticCurvePrivateKey, claims: Mapping[str, Any]) -> str:
    """An ES256 JWT of ``claims`` (the emulator's side)."""
    header = _b64url(json.dumps({"alg": "ES256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signed = f"{header}.{payload}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(_COORDINATE, "big") + s.to_bytes(_COORDINATE, "big")
    return f"{header}.{payload}.{_b64url(signature)}"


def verify(
    token: str, key: ec.EllipticCurvePublicKey, *, now: float | None = None
) -> dict[str, Any]:
    """The claims of ``token`` once its ES256 signature by ``key``, its issuer and its
    lifetime are checked; :class:`BadToken` otherwise. The caller checks the rest
    (``sub``, ``aud``, ``jti``, ``aid``) against the request it came with."""
    parts = token.split(".")
    if len(parts) != 3:
        raise BadToken("it is not a JWT (three dot-separated parts)")
    try:
        header = json.loads(_unb64url(parts[0]))
        claims = json.loads(_unb64url(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise BadToken("its header or claims are not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        alg = header.get("alg") if isinstance(header, dict) else None
        raise BadToken(f"it is signed with {alg!r}, not ES256")
    signature = _unb64url(parts[2])
    if len(signature) != 2 * _COORDINATE:
        raise BadToken("its signature does not match")
    der = encode_dss_signature(
        int.from_bytes(signature[:_COORDINATE], "big"),
        int.from_bytes(signature[_COORDINATE:], "big"),
    )
    try:
        key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise BadToken("its signature does not match") from None
    if not isinstance(claims, dict):
        raise BadToken("its claims are not an object")
    if claims.get("iss") != ISSUER:
        raise BadToken(f"its issuer is {claims.get('iss')!r}, not {ISSUER!r}")
    moment = time.time() if now is None else now
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise BadToken("it has no expiry (exp)")
    if moment > expires + LEEWAY:
        raise BadToken(f"it expired {int(moment - expires)} s ago")
    issued = claims.get("iat")
    future = isinstance(issued, int | float) and issued > moment + LEEWAY
    if future and not isinstance(issued, bool):
        raise BadToken("it was issued in the future (iat)")
    return claims
