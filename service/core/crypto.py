"""Encryption for secrets kept at rest (GitHub tokens), and hashing for API tokens."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBox:
    """Fernet with a key from settings, or derived from the secret key when none is set."""

    def __init__(self, secret_key: str, encryption_key: str | None = None) -> None:
        if encryption_key:
            key = encryption_key.encode()
        else:
            derived = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"tributary-secretbox"
            ).derive(secret_key.encode())
            key = base64.urlsafe_b64encode(derived)
        self._fernet = Fernet(key)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The plaintext, or None when the key changed or the value was tampered with."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def token_digest(token: str) -> str:
    """API tokens carry 256 random bits, so one SHA-256 is enough (no slow KDF needed)."""
    return hashlib.sha256(token.encode()).hexdigest()
