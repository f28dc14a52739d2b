"""Encryption for secrets kept at rest (GitHub tokens), hashing for API tokens, and the
instance's own secret key when none is configured."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_KEY_FILE = "secret_key"


def instance_secret_key(folder: Path) -> tuple[str, bool]:
    """The secret key kept in the instance folder, made once (mode 0600) when there is
    none; True when it was made now. Two processes starting at once agree on one key."""
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(key + "\n")
            return key, True
    return path.read_text().strip(), False


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
