"""Identity documents, credit codes and positions: real-format samples, and the mistakes people make.

Valid samples are built here from a known body with the check character computed in the test
itself (not by the code under test), so a wrong weight table in the code would show.
"""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from shanglong.validators import (
    CreditCodeFormField,
    CreditCodeValidator,
    Gender,
    IdentityDocumentType,
    ResidentIdFormField,
    is_roughly_in_china,
    normalise_mobile,
    parse_resident_id,
    validate_credit_code,
    validate_identity_document,
    validate_latitude,
    validate_longitude,
    validate_mobile,
    validate_optional_credit_code,
    validate_point_in_china,
    validate_resident_id,
)

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_id_check(body: str) -> str:
    assert len(body) == 17
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def with_credit_check(body: str) -> str:
    assert len(body) == 17
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_ALPHABET[(31 - total % 31) % 31]


def wrong_last(number: str, alphabet: str = "0123456789X") -> str:
    return number[:17] + next(c for c in alphabet if c != number[17])


def error_code(callable_, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        callable_(*args, **kwargs)
    return caught.value.error_list[0].code


# A man born 1988-05-12 in 东营区 (370502), sequence 023 (odd: male).
DONGYING_MAN = with_id_check("37050219880512023")
# A woman born 2001-02-28 in 东营区, sequence 046 (even: female).
DONGYING_WOMAN = with_id_check("37050220010228046")


# --- Resident identity numbers -------------------------------------------------------------


def test_standard_example_and_generated_numbers_are_valid():
    # The example printed in GB 11643-1999 itself.
    example = parse_resident_id("11010519491231002X")
    assert example.birth_date == datetime.date(1949, 12, 31)
    assert example.gender == Gender.FEMALE  # sequence 002 is even
    info = parse_resident_id(DONGYING_MAN)
    assert info.birth_date == datetime.date(1988, 5, 12)
    assert info.gender == Gender.MALE
    assert parse_resident_id(DONGYING_WOMAN).gender == Gender.FEMALE


def test_lowercase_x_is_accepted_and_normalised():
    number = next(
        candidate
        for candidate in (with_id_check(f"370502199003{day:02d}001") for day in range(1, 29))
        if candidate.endswith("X")
    )
    assert parse_resident_id(number.lower()).birth_date.year == 1990
    assert validate_identity_document(IdentityDocumentType.RESIDENT_ID, f" {number.lower()} ") == number


def test_wrong_check_character_is_rejected():
    assert error_code(parse_resident_id, wrong_last(DONGYING_MAN)) == "id_checksum"


def test_february_30th_is_not_a_birth_date():
    number = with_id_check("37050219900230012")
    with pytest.raises(ValidationError) as caught:
        parse_resident_id(number)
    assert caught.value.error_list[0].code == "id_birth_date_invalid"
    with translation.override("en"):
        assert "19900230" in caught.value.messages[0]


def test_future_birth_date_is_rejected():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    number = with_id_check(f"370502{tomorrow:%Y%m%d}012")
    assert error_code(parse_resident_id, number) == "id_birth_date_future"


def test_birth_before_1900_is_rejected():
    # The 1880 example that circulates widely: a valid checksum, but not a living person's number.
    assert error_code(parse_resident_id, "440524188001010014") == "id_birth_date_too_early"


def test_unknown_province_code_is_rejected():
    number = with_id_check("99050219880512023")
    with pytest.raises(ValidationError) as caught:
        parse_resident_id(number)
    assert caught.value.error_list[0].code == "id_province"
    with translation.override("en"):
        assert "99" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (DONGYING_MAN[:17], "id_length"),
        (DONGYING_MAN + "1", "id_length"),
        (DONGYING_MAN[:10] + "A" + DONGYING_MAN[11:], "id_characters"),
    ],
)
def test_wrong_shape_is_rejected(number, code):
    assert error_code(validate_resident_id, number) == code


def test_birth_date_and_gender_given_must_agree_with_the_number():
    doc = IdentityDocumentType.RESIDENT_ID
    assert validate_identity_document(doc, DONGYING_MAN, birth_date=datetime.date(1988, 5, 12), gender="male")
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        validate_identity_document(doc, DONGYING_MAN, birth_date=datetime.date(1988, 5, 13))
    assert caught.value.error_list[0].code == "id_birth_date_mismatch"
    with translation.override("en"):
        assert "1988-05-13" in caught.value.messages[0]
        assert "1988-05-12" in caught.value.messages[0]
    assert error_code(validate_identity_document, doc, DONGYING_MAN, gender=Gender.FEMALE) == "id_gender_mismatch"


# --- Other identity documents ----------------------------------------------------------------


def test_hong_kong_macao_taiwan_residence_permits():
    doc = IdentityDocumentType.HK_MACAO_TW_RESIDENCE
    for area in ("810000", "820000", "830000"):
        number = with_id_check(f"{area}19850101003")
        assert validate_identity_document(doc, number, birth_date=datetime.date(1985, 1, 1)) == number
    assert error_code(validate_identity_document, doc, DONGYING_MAN) == "id_permit_area"
    assert error_code(validate_identity_document, doc, wrong_last(with_id_check("81000019850101003"))) == "id_checksum"


def test_foreign_permanent_resident_cards_of_2017_and_2023():
    doc = IdentityDocumentType.FOREIGN_PERMANENT_RESIDENCE
    # 2017 card: nationality letters and 12 digits.
    assert validate_identity_document(doc, "usa370075120101") == "USA370075120101"
    assert error_code(validate_identity_document, doc, "US3370075120101") == "id_foreign_format"
    # 2023 card: 9, province 37, nationality 840, birth date, sequence, resident-ID check character.
    number = with_id_check("93784019800704001")
    assert validate_identity_document(doc, number, birth_date=datetime.date(1980, 7, 4), gender="male") == number
    assert error_code(validate_identity_document, doc, wrong_last(number)) == "id_checksum"
    assert error_code(validate_identity_document, doc, DONGYING_MAN) == "id_foreign_format"
    assert error_code(validate_identity_document, doc, "9378401980") == "id_length"


def test_passports():
    doc = IdentityDocumentType.PASSPORT
    assert validate_identity_document(doc, "e12345678") == "E12345678"
    # A passport encodes no birth date: nothing to compare.
    assert validate_identity_document(doc, "E12345678", birth_date=datetime.date(2000, 1, 1))
    assert error_code(validate_identity_document, doc, "E12") == "id_passport_format"
    assert error_code(validate_identity_document, doc, "E1234-5678") == "id_passport_format"
    assert error_code(validate_identity_document, doc, "") == "required"


def test_unknown_document_type_is_rejected():
    assert error_code(validate_identity_document, "driving_licence", DONGYING_MAN) == "id_document_type"


# --- Unified social credit codes ---------------------------------------------------------------


def test_standard_example_and_generated_credit_codes_are_valid():
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    enterprise = with_credit_check("91370502MA3CU7H2X")
    individual = with_credit_check("92370502MA3D0K5L1")
    assert validate_credit_code(enterprise.lower(), kind="enterprise") == enterprise
    assert validate_credit_code(f" {individual} ", kind="individual") == individual
    # A stall's code, if it has one, may be of any kind.
    assert validate_credit_code(individual, kind="stall") == individual


def test_credit_code_of_the_wrong_kind_is_rejected():
    individual = with_credit_check("92370502MA3D0K5L1")
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(individual, kind="enterprise")
    assert caught.value.error_list[0].code == "credit_code_kind"
    with translation.override("en"):
        assert "91" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91350100M000100I43", "credit_code_characters"),  # I is never used
        ("91350100M0O0100Y43", "credit_code_characters"),  # nor O
        ("913501A0M000100Y43", "credit_code_area"),
        ("91350100M000100Y44", "credit_code_checksum"),
        ("", "required"),
    ],
)
def test_bad_credit_codes_are_rejected(value, code):
    assert error_code(validate_credit_code, value) == code


def test_letter_message_names_the_bad_letter():
    with pytest.raises(ValidationError) as caught, translation.override("en"):
        validate_credit_code("91350100M000100I43")
    with translation.override("en"):
        assert "I" in caught.value.messages[0]


def test_optional_credit_code_allows_empty():
    assert validate_optional_credit_code("") == ""
    assert validate_optional_credit_code(None) == ""
    assert validate_optional_credit_code("  ") == ""
    with pytest.raises(ValidationError):
        validate_optional_credit_code("91350100M000100Y44")


def test_form_fields_clean_to_the_stored_spelling():
    class MerchantForm(forms.Form):
        credit_code = CreditCodeFormField(kind="enterprise", required=False)
        id_number = ResidentIdFormField()

    number = next(
        candidate
        for candidate in (with_id_check(f"370502199003{day:02d}001") for day in range(1, 29))
        if candidate.endswith("X")
    )
    form = MerchantForm({"credit_code": "91350100m000100y43", "id_number": number.lower()})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"credit_code": "91350100M000100Y43", "id_number": number}
    assert MerchantForm({"credit_code": "", "id_number": number}).is_valid()
    form = MerchantForm({"credit_code": with_credit_check("92370502MA3D0K5L1"), "id_number": wrong_last(number)})
    assert not form.is_valid()
    assert set(form.errors) == {"credit_code", "id_number"}


def test_credit_code_validator_object_is_deconstructible():
    validator = CreditCodeValidator("enterprise")
    path, args, kwargs = validator.deconstruct()
    assert path == "shanglong.validators.CreditCodeValidator"
    assert args == ("enterprise",)
    assert validator == CreditCodeValidator("enterprise")
    with pytest.raises(ValidationError):
        validator(with_credit_check("92370502MA3D0K5L1"))


# --- Positions ---------------------------------------------------------------------------------


def test_latitude_and_longitude_ranges():
    validate_latitude("37.463")
    validate_longitude(118.495)
    for bad in ("90.01", "-91", "north", "nan"):
        with pytest.raises(ValidationError):
            validate_latitude(bad)
    for bad in ("180.5", "-181", ""):
        with pytest.raises(ValidationError):
            validate_longitude(bad)


def test_point_in_china_catches_swapped_coordinates():
    assert is_roughly_in_china(37.463, 118.495)  # Shanglong
    assert not is_roughly_in_china(118.495, 37.463)
    validate_point_in_china("37.463", "118.495")
    with pytest.raises(ValidationError) as caught:
        # Swapped: a latitude of 118 is already out of range.
        validate_point_in_china(118.495, 37.463)
    assert caught.value.error_list[0].code == "latitude_range"
    with pytest.raises(ValidationError) as caught:
        validate_point_in_china(51.5, -0.12)  # London
    assert caught.value.error_list[0].code == "point_outside_china"


# --- Mobile numbers (unchanged) ----------------------------------------------------------------


def test_mobile_numbers_still_validate():
    assert normalise_mobile("+86 138-1234-5678") == "13812345678"
    validate_mobile("13812345678")
    with pytest.raises(ValidationError):
        validate_mobile("12812345678")
