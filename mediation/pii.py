"""Encryption at rest for personal identifiers (ID numbers are sensitive personal information
under PIPL). AES-256-GCM with a random nonce; the key lives in the data directory's secrets."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class PiiCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("PiiCipher needs a 32-byte key")
        self._aead = AESGCM(key)

    def encrypt(self, text: str, *, context: str) -> bytes:
        """``context`` (e.g. the column name) is bound as associated data so ciphertexts cannot be swapped."""
        return self.seal(text.encode(), context=context)

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return self.open(blob, context=context).decode()

    def seal(self, data: bytes, *, context: str) -> bytes:
        """Bytes (a reference photo) as :meth:`encrypt` does text."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, context.encode())

    def open(self, blob: bytes, *, context: str) -> bytes:
        return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())


def mask_id_number(number: str) -> str:
    """What may be shown to other people: the first 3 and last 2 characters."""
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
