"""Field encryption for identity numbers, with the national ciphers (SM4 and SM3).

Residents', party members' and volunteers' identity numbers are personal information under
PIPL and must be encrypted at rest. They are stored in two columns:

- ``id_number = EncryptedTextField()``: SM4 in GCM mode with a random 12-byte nonce, stored as
  the text ``v1:<urlsafe base64 of nonce + ciphertext + tag>``. The "v1" prefix names the key
  and scheme, so a later key rotation can tell old rows from new ones.
- ``id_number_hash = models.CharField(max_length=64)``: `keyed_hash` of the normalised number
  (HMAC-SM3), unique per document type, used to find a person by the number they show and to
  refuse duplicates. The database never sees the clear number.

The SM4 key (``settings.FIELD_ENCRYPTION_KEY``, 32 hex characters) and the hash key
(``settings.FIELD_HASH_KEY``) are separate from SECRET_KEY, so rotating sessions never loses data.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.lookups import IsNull

VERSION = "v1"
_PREFIX = f"{VERSION}:"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(ValueError):
    """A stored value cannot be decrypted: it was altered, is not ours, or the key is wrong."""


def _encryption_key() -> bytes:
    raw = settings.FIELD_ENCRYPTION_KEY
    try:
        key = bytes.fromhex(raw)
    except (TypeError, ValueError):
        key = b""
    if len(key) != 16:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be 32 hexadecimal characters (a 128-bit SM4 key).")
    return key


def _hash_key() -> bytes:
    raw = settings.FIELD_HASH_KEY
    if not raw:
        raise ImproperlyConfigured("FIELD_HASH_KEY must be set to a long random text.")
    return raw.encode("utf-8")


def normalise_for_hash(value: str) -> str:
    """The spelling a keyed hash is computed over: surrounding spaces removed, upper case."""
    return value.strip().upper()


def encrypt_text(clear: str) -> str:
    """Encrypt a text with SM4-GCM under a fresh random nonce; returns "v1:<base64>"."""
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(_encryption_key()), modes.GCM(nonce)).encryptor()
    # The version is bound in as associated data, so a stored value cannot be relabelled.
    encryptor.authenticate_additional_data(VERSION.encode("ascii"))
    ciphertext = encryptor.update(clear.encode("utf-8")) + encryptor.finalize()
    return _PREFIX + base64.urlsafe_b64encode(nonce + ciphertext + encryptor.tag).decode("ascii")


def decrypt_text(stored: str) -> str:
    """Decrypt a value made by `encrypt_text`; raises DecryptionError if it was tampered with."""
    if not isinstance(stored, str) or not stored.startswith(_PREFIX):
        raise DecryptionError("The value is not an encrypted field value of a known version.")
    try:
        blob = base64.urlsafe_b64decode(stored[len(_PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise DecryptionError("The encrypted value is not valid base64.") from error
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("The encrypted value is too short.")
    nonce, ciphertext, tag = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:-_TAG_BYTES], blob[-_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(_encryption_key()), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(VERSION.encode("ascii"))
    try:
        clear = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag as error:
        raise DecryptionError("The encrypted value was altered or the key is wrong.") from error
    return clear.decode("utf-8")


def keyed_hash(value: str) -> str:
    """HMAC-SM3 of the normalised value under FIELD_HASH_KEY, as 64 hex characters.

    Equal numbers (whatever their spacing or the case of an X) give equal hashes, so the hash
    column can carry a unique constraint and serve exact lookups."""
    mac = hmac.HMAC(_hash_key(), hashes.SM3())
    mac.update(normalise_for_hash(value).encode("utf-8"))
    return mac.finalize().hex()


class EncryptedTextField(models.TextField):
    """A text column whose content is encrypted with SM4 before it reaches the database.

    The model attribute holds the clear text; the column holds "v1:<base64>". As the
    ciphertext differs on every save, the only lookup allowed is ``isnull``: find rows by the
    companion keyed-hash column instead. Empty strings and None are stored as they are."""

    description = "Text encrypted with SM4"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        # Any other lookup would compare against a fresh ciphertext and silently match nothing.
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None
