"""Identity numbers at rest: SM4-GCM encryption and the HMAC-SM3 keyed hash used to find them."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models
from django.test.utils import isolate_apps

from shanglong.crypto import DecryptionError, EncryptedTextField, decrypt_text, encrypt_text, keyed_hash

ID_NUMBER = "37050219880512023X"


def test_round_trip_of_clear_text_including_chinese():
    for clear in (ID_NUMBER, "张伟 370502", ""):
        assert decrypt_text(encrypt_text(clear)) == clear


def test_ciphertext_is_versioned_differs_each_time_and_hides_the_number():
    first, second = encrypt_text(ID_NUMBER), encrypt_text(ID_NUMBER)
    assert first.startswith("v1:")
    assert first != second
    for stored in (first, second):
        assert ID_NUMBER not in stored
        assert ID_NUMBER.encode() not in base64.urlsafe_b64decode(stored[3:])
        # 12-byte nonce + 18 bytes of ciphertext + 16-byte tag
        assert len(base64.urlsafe_b64decode(stored[3:])) == 12 + len(ID_NUMBER) + 16


def test_tampering_is_detected():
    stored = encrypt_text(ID_NUMBER)
    blob = bytearray(base64.urlsafe_b64decode(stored[3:]))
    blob[14] ^= 0x01  # one bit of the ciphertext
    with pytest.raises(DecryptionError):
        decrypt_text("v1:" + base64.urlsafe_b64encode(bytes(blob)).decode())
    with pytest.raises(DecryptionError):
        decrypt_text("v2:" + stored[3:])
    with pytest.raises(DecryptionError):
        decrypt_text("v1:not base64 at all!")
    with pytest.raises(DecryptionError):
        decrypt_text("v1:" + stored[3:10])


def test_another_key_cannot_decrypt(settings):
    stored = encrypt_text(ID_NUMBER)
    settings.FIELD_ENCRYPTION_KEY = "ffeeddccbbaa99887766554433221100"
    with pytest.raises(DecryptionError):
        decrypt_text(stored)


def test_malformed_key_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEY = "too-short"
    with pytest.raises(ImproperlyConfigured):
        encrypt_text(ID_NUMBER)


def test_keyed_hash_is_stable_over_the_normalised_value(settings):
    digest = keyed_hash(ID_NUMBER)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert keyed_hash(f"  {ID_NUMBER.lower()} ") == digest
    assert keyed_hash("370502198805120231") != digest
    settings.FIELD_HASH_KEY = "another-hash-key"
    assert keyed_hash(ID_NUMBER) != digest


@pytest.fixture
def holder_model():
    """A throwaway model in an isolated app registry: never migrated, never seen by makemigrations."""
    with isolate_apps("shanglong"):

        class Holder(models.Model):
            id_number = EncryptedTextField(blank=True, null=True)

            class Meta:
                app_label = "shanglong"
                managed = False

            def __str__(self) -> str:
                return "holder"

        yield Holder


def test_field_encrypts_on_the_way_in_and_decrypts_on_the_way_out(holder_model):
    field = holder_model._meta.get_field("id_number")
    stored = field.get_db_prep_save(ID_NUMBER, connection)
    assert stored.startswith("v1:")
    assert ID_NUMBER not in stored
    assert field.from_db_value(stored, None, connection) == ID_NUMBER
    assert field.get_prep_value(None) is None
    assert field.get_prep_value("") == ""
    assert field.from_db_value(None, None, connection) is None


def test_field_allows_only_isnull_lookups(holder_model):
    assert "IS NULL" in str(holder_model.objects.filter(id_number__isnull=True).query)
    with pytest.raises(FieldError):
        holder_model.objects.filter(id_number=ID_NUMBER)
    with pytest.raises(FieldError):
        holder_model.objects.filter(id_number__icontains="3705")
