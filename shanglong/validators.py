"""Validators for the identifiers the community's registries hold.

- mainland mobile numbers;
- identity documents of residents, party members, volunteers and merchants' operators: the
  resident identity card (居民身份证, GB 11643-1999), the residence permit for Hong Kong, Macao and
  Taiwan residents (港澳台居民居住证), the foreign permanent resident ID card (外国人永久居留身份证,
  2017 and 2023 versions) and passports;
- the unified social credit code of enterprises and individual businesses (统一社会信用代码,
  GB 32100-2015);
- WGS84 positions of compounds, shops and findings;
- text without control characters, in every text input of pages and API
  (`refuse_control_characters_in_text_inputs`, run once at start).

Every check raises django's ValidationError with an English source message (translated through
gettext) that tells the person exactly what is wrong, and a stable ``code`` that tests and API
clients can rely on. The ``normalise_*`` helpers give the one stored spelling of each value
(upper case, no spaces), which is also what keyed hashes are computed over.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# --- Mobile numbers --------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix."""
    digits = re.sub(r"[\s\-]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    """A mainland mobile number: 11 digits starting 13-19."""
    if not _MOBILE_RE.match(normalise_mobile(value)):
        raise ValidationError(
            _("Enter a mainland mobile number of 11 digits starting with 1, such as 13812345678."),
            code="invalid_mobile",
        )


def validate_optional_mobile(value: str | None) -> str:
    """For an optional mobile field (forms, serializers, imports): "" when empty, else the
    checked 11 digits ("139 1234 5678" and "+86 13912345678" give 13912345678)."""
    mobile = normalise_mobile(value or "")
    if mobile:
        validate_mobile(mobile)
    return mobile


# --- Identity documents ----------------------------------------------------------------------


class IdentityDocumentType(models.TextChoices):
    """The kinds of identity document a person in the registries may show."""

    RESIDENT_ID = "resident_id", _("Resident identity card")
    HK_MACAO_TW_RESIDENCE = "hk_macao_tw_residence", _("Residence permit for Hong Kong, Macao and Taiwan residents")
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence", _("Foreign permanent resident ID card")
    PASSPORT = "passport", _("Passport")


class Gender(models.TextChoices):
    """Gender as an identity number encodes it (odd 17th digit: male)."""

    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


@dataclass(frozen=True)
class ResidentIdInfo:
    """What an 18-character identity number tells about its holder."""

    birth_date: datetime.date
    gender: Gender


# GB 11643-1999: the province-level codes that open a resident identity number.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",  # 北京 天津 河北 山西 内蒙古
        "21", "22", "23",  # 辽宁 吉林 黑龙江
        "31", "32", "33", "34", "35", "36", "37",  # 上海 江苏 浙江 安徽 福建 江西 山东
        "41", "42", "43", "44", "45", "46",  # 河南 湖北 湖南 广东 广西 海南
        "50", "51", "52", "53", "54",  # 重庆 四川 贵州 云南 西藏
        "61", "62", "63", "64", "65",  # 陕西 甘肃 青海 宁夏 新疆
        "71", "81", "82",  # 台湾 香港 澳门
    }
)  # fmt: skip
# 港澳台居民居住证: the area code names the region the holder comes from.
RESIDENCE_PERMIT_AREA_CODES = frozenset({"810000", "820000", "830000"})

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID18_RE = re.compile(r"^\d{17}[\dX]$")
_FOREIGN_2017_RE = re.compile(r"^[A-Z]{3}\d{12}$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


def normalise_identity_number(value: str | None) -> str:
    """The stored spelling of any identity number: no spaces, upper case (a trailing x becomes X)."""
    return re.sub(r"\s", "", value or "").upper()


def identity_check_character(body: str) -> str:
    """The check character (ISO 7064 MOD 11-2) of the first 17 digits of an identity number."""
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _check_18_character_number(number: str) -> ResidentIdInfo:
    """Shape, birth date and check character shared by every 18-character identity number.
    The area code (characters 1-6) is checked by the caller, as it differs per document."""
    if len(number) != 18:
        raise ValidationError(
            _("An identity number has 18 characters; this one has %(length)d."),
            code="id_length",
            params={"length": len(number)},
        )
    if not _ID18_RE.match(number):
        raise ValidationError(
            _("An identity number has 17 digits followed by a digit or the letter X."),
            code="id_characters",
        )
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("Characters 7 to 14 of the identity number (%(digits)s) are not a real date of birth."),
            code="id_birth_date_invalid",
            params={"digits": number[6:14]},
        ) from None
    if birth_date > timezone.localdate():
        raise ValidationError(
            _("The date of birth in the identity number (%(date)s) is in the future."),
            code="id_birth_date_future",
            params={"date": birth_date.isoformat()},
        )
    if birth_date < _EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("The date of birth in the identity number (%(date)s) is before 1900."),
            code="id_birth_date_too_early",
            params={"date": birth_date.isoformat()},
        )
    expected = identity_check_character(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _(
                "The last character of the identity number does not match the others: "
                "please check every digit for a typing mistake."
            ),
            code="id_checksum",
        )
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return ResidentIdInfo(birth_date=birth_date, gender=gender)


def parse_resident_id(value: str) -> ResidentIdInfo:
    """Check an 18-character resident identity number (居民身份证) and tell the holder's date of
    birth and gender. A lower-case x is accepted. Raises ValidationError when it is not valid."""
    number = normalise_identity_number(value)
    info = _check_18_character_number(number)
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(
            _("The identity number starts with %(code)s, which is not a province code."),
            code="id_province",
            params={"code": number[:2]},
        )
    return info


def validate_resident_id(value: str) -> None:
    """A validator for form and model fields holding a resident identity number."""
    parse_resident_id(value)


def _parse_residence_permit(number: str) -> ResidentIdInfo:
    info = _check_18_character_number(number)
    if number[:6] not in RESIDENCE_PERMIT_AREA_CODES:
        raise ValidationError(
            _(
                "A residence permit number for Hong Kong, Macao or Taiwan residents starts with "
                "810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)."
            ),
            code="id_permit_area",
        )
    return info


def _parse_foreign_permanent_residence(number: str) -> ResidentIdInfo | None:
    """The 2023 card: 18 characters starting with 9, then a province code, a nationality code,
    the date of birth, a sequence and the resident-ID check character. The 2017 card: 3 letters
    (the nationality) and 12 digits; it has no date of birth this module can rely on, so only its
    shape is checked and None is returned."""
    if len(number) == 15:
        if not _FOREIGN_2017_RE.match(number):
            raise ValidationError(
                _("A 15-character foreign permanent resident ID number has 3 letters followed by 12 digits."),
                code="id_foreign_format",
            )
        return None
    if len(number) != 18:
        raise ValidationError(
            _("A foreign permanent resident ID number has 18 characters (or 15 on cards issued before 2023)."),
            code="id_length",
        )
    if not number.startswith("9"):
        raise ValidationError(
            _("An 18-character foreign permanent resident ID number starts with 9."),
            code="id_foreign_format",
        )
    info = _check_18_character_number(number)
    if number[1:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("Characters 2 and 3 of the foreign permanent resident ID number (%(code)s) are not a province code."),
            code="id_province",
            params={"code": number[1:3]},
        )
    return info


def validate_identity_document(
    doc_type: IdentityDocumentType | str,
    number: str,
    *,
    birth_date: datetime.date | None = None,
    gender: Gender | str | None = None,
) -> str:
    """Check an identity document number of the given type and return its normalised spelling.

    When the person's date of birth or gender is given as well, they must agree with what the
    number encodes (documents that encode neither, such as passports, are not compared)."""
    number = normalise_identity_number(number)
    if not number:
        raise ValidationError(_("Enter the identity document number."), code="required")
    try:
        doc_type = IdentityDocumentType(doc_type)
    except ValueError:
        raise ValidationError(
            _("Choose the kind of identity document."), code="id_document_type", params={"value": doc_type}
        ) from None
    info: ResidentIdInfo | None
    if doc_type == IdentityDocumentType.RESIDENT_ID:
        info = parse_resident_id(number)
    elif doc_type == IdentityDocumentType.HK_MACAO_TW_RESIDENCE:
        info = _parse_residence_permit(number)
    elif doc_type == IdentityDocumentType.FOREIGN_PERMANENT_RESIDENCE:
        info = _parse_foreign_permanent_residence(number)
    else:
        if not _PASSPORT_RE.match(number):
            raise ValidationError(
                _("A passport number has 5 to 20 letters and digits."),
                code="id_passport_format",
            )
        info = None
    if info is not None and birth_date is not None and birth_date != info.birth_date:
        raise ValidationError(
            _("The date of birth %(given)s does not match the identity number, which says %(encoded)s."),
            code="id_birth_date_mismatch",
            params={"given": birth_date.isoformat(), "encoded": info.birth_date.isoformat()},
        )
    if info is not None and gender and Gender(gender) != info.gender:
        message = (
            _("The gender given is female, but the identity number is a man's (its 17th digit is odd).")
            if info.gender == Gender.MALE
            else _("The gender given is male, but the identity number is a woman's (its 17th digit is even).")
        )
        raise ValidationError(message, code="id_gender_mismatch")
    return number


# --- Unified social credit code ---------------------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUES = {char: index for index, char in enumerate(CREDIT_CODE_ALPHABET)}
# The first two characters name the registration authority and the kind of entity:
# 9 = market regulation (工商), then 1 = enterprise, 2 = individual business (个体工商户).
CREDIT_CODE_PREFIXES: dict[str, str] = {"enterprise": "91", "individual": "92"}


def normalise_credit_code(value: str | None) -> str:
    """The stored spelling of a credit code: no spaces, upper case."""
    return re.sub(r"\s", "", value or "").upper()


def credit_code_check_character(body: str) -> str:
    """The check character of the first 17 characters of a unified social credit code."""
    total = sum(_CREDIT_VALUES[char] * weight for char, weight in zip(body, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str, *, kind: str | None = None) -> str:
    """Check a unified social credit code (统一社会信用代码) and return it in upper case.

    ``kind`` is the merchant's kind: an "enterprise" code starts with 91, an "individual"
    business's with 92; other kinds (a stall) and None check no prefix. An empty value is an
    error here; fields where the code is optional (stalls often have none) use
    `validate_optional_credit_code`, which lets an empty value through."""
    code = normalise_credit_code(value)
    if not code:
        raise ValidationError(_("Enter the unified social credit code."), code="required")
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(length)d."),
            code="credit_code_length",
            params={"length": len(code)},
        )
    wrong = sorted({char for char in code if char not in _CREDIT_VALUES})
    if wrong:
        raise ValidationError(
            _(
                "A unified social credit code uses digits and capital letters other than I, O, Z, S and V; "
                "this one contains %(characters)s."
            ),
            code="credit_code_characters",
            params={"characters": ", ".join(wrong)},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3 to 8 of a unified social credit code are the area code and must be digits."),
            code="credit_code_area",
        )
    if code[17] != credit_code_check_character(code[:17]):
        raise ValidationError(
            _(
                "The last character of the unified social credit code does not match the others: "
                "please check every character for a typing mistake."
            ),
            code="credit_code_checksum",
        )
    expected_prefix = CREDIT_CODE_PREFIXES.get(kind or "")
    if expected_prefix and not code.startswith(expected_prefix):
        message = (
            _("An enterprise's unified social credit code starts with 91.")
            if kind == "enterprise"
            else _("An individual business's unified social credit code starts with 92.")
        )
        raise ValidationError(message, code="credit_code_kind")
    return code


def validate_optional_credit_code(value: str | None, *, kind: str | None = None) -> str:
    """Like `validate_credit_code`, but an empty value is allowed and returned as ""."""
    if not normalise_credit_code(value):
        return ""
    return validate_credit_code(value or "", kind=kind)


@deconstructible
class CreditCodeValidator:
    """A validator object for model and form fields: ``validators=[CreditCodeValidator("enterprise")]``.
    Empty values never reach field validators, so a blank=True field stays optional."""

    def __init__(self, kind: str | None = None) -> None:
        self.kind = kind

    def __call__(self, value: str) -> None:
        validate_credit_code(value, kind=self.kind)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CreditCodeValidator) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("CreditCodeValidator", self.kind))


class CreditCodeFormField(forms.CharField):
    """A form field for a credit code: cleans to the upper-case spelling and checks it."""

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)
        self.kind = kind

    def to_python(self, value: Any) -> str:
        return normalise_credit_code(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            validate_credit_code(value, kind=self.kind)


class ResidentIdFormField(forms.CharField):
    """A form field for a resident identity number: cleans to the normalised spelling (X upper case)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str:
        return normalise_identity_number(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            parse_resident_id(value)


# --- Positions (WGS84) -------------------------------------------------------------------------

# A generous box around China's territory: enough to catch swapped or mistyped coordinates.
CHINA_LATITUDE_RANGE = (Decimal(3), Decimal(54))
CHINA_LONGITUDE_RANGE = (Decimal(73), Decimal(136))


def _as_decimal(value: Any, code: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number of degrees, such as 37.4612."), code=code) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number of degrees, such as 37.4612."), code=code)
    return number


def validate_latitude(value: Any) -> None:
    """A WGS84 latitude: -90 to 90 degrees."""
    if not Decimal(-90) <= _as_decimal(value, "latitude_invalid") <= Decimal(90):
        raise ValidationError(
            _("A latitude lies between -90 and 90 degrees."), code="latitude_range", params={"value": value}
        )


def validate_longitude(value: Any) -> None:
    """A WGS84 longitude: -180 to 180 degrees."""
    if not Decimal(-180) <= _as_decimal(value, "longitude_invalid") <= Decimal(180):
        raise ValidationError(
            _("A longitude lies between -180 and 180 degrees."), code="longitude_range", params={"value": value}
        )


def is_roughly_in_china(latitude: Any, longitude: Any) -> bool:
    """True when the point lies in a box around China (latitude 3-54, longitude 73-136)."""
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except (InvalidOperation, ValueError):
        return False
    return (
        CHINA_LATITUDE_RANGE[0] <= lat <= CHINA_LATITUDE_RANGE[1]
        and CHINA_LONGITUDE_RANGE[0] <= lon <= CHINA_LONGITUDE_RANGE[1]
    )


def validate_point_in_china(latitude: Any, longitude: Any) -> None:
    """Check a WGS84 point, and that it is roughly in China (often latitude and longitude were swapped)."""
    validate_latitude(latitude)
    validate_longitude(longitude)
    if not is_roughly_in_china(latitude, longitude):
        raise ValidationError(
            _(
                "The position %(latitude)s, %(longitude)s is not in China. Check that latitude and longitude "
                "are not swapped: in Dongying the latitude is about 37 and the longitude about 118."
            ),
            code="point_outside_china",
            params={"latitude": latitude, "longitude": longitude},
        )


# --- Text ------------------------------------------------------------------------------------

# C0 control characters (U+0000 to U+001F) except tab, line feed and carriage return: invisible
# in the portal, they corrupt exports, searches and the files sent to other platforms.
_CONTROL_CHARACTER_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def validate_no_control_characters(value: Any) -> None:
    """Text holds no control character other than tab and line breaks (anything else is left
    to the field's own checks)."""
    if not isinstance(value, str):
        return
    found = _CONTROL_CHARACTER_RE.search(value)
    if found:
        raise ValidationError(
            _(
                "This text contains an invisible control character (%(character)s). Remove it: only "
                "tabs and line breaks are allowed."
            ),
            code="control_character",
            params={"character": f"U+{ord(found.group()):04X}"},
        )


def refuse_control_characters_in_text_inputs() -> None:
    """The one place where text inputs refuse control characters, called once at start (the
    core's AppConfig.ready): validate_no_control_characters joins the validators of

    - every model CharField and TextField (a model's full_clean, so every ModelForm page, every
      ModelSerializer of the API, imports and the admin), through `field.validators`, which
      migrations do not record (Django adds a CharField's MaxLengthValidator the same way);
    - every other form and serializer CharField (a note, a reason, a search) through the
      default validators of `django.forms.CharField` and `rest_framework.fields.CharField`,
      which their subclasses inherit. (A serializer field declared with its own `validators=`
      replaces the defaults; one built from a model gets the model field's.)
    """
    from django.apps import apps
    from rest_framework import fields as api_fields

    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and (
                validate_no_control_characters not in field.validators
            ):
                field.validators.append(validate_no_control_characters)
    field_classes: tuple[type[Any], ...] = (forms.CharField, api_fields.CharField)
    for field_class in field_classes:
        if validate_no_control_characters not in field_class.default_validators:
            field_class.default_validators = [*field_class.default_validators, validate_no_control_characters]
