"""Secrets at rest: SHA-256 lookup digests, AES-GCM for retrievable keys, argon2id for passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_ALPHABET = string.ascii_letters + string.digits
_password_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def random_token(length: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def digests_match(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(password_hash)


class SecretBox:
    """AES-256-GCM with a key derived (HKDF-SHA256) from ``CLINICORE_SECRET_KEY``.

    Stored form: ``v1:`` + base64(nonce || ciphertext+tag).
    """

    def __init__(self, secret_key: str, *, purpose: bytes = b"clinicore/keys-at-rest") -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(derived)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return "v1:" + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str) -> str:
        version, _, payload = stored.partition(":")
        if version != "v1":
            raise ValueError("unknown secret box version")
        raw = base64.b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()
