"""Importing residents from an .xlsx sheet with Chinese headers (the template is downloadable).

Every row is checked first; if any row has a problem, nothing is written and the person gets a
row-by-row report (a bad check character, a date of birth that does not match the number, an ID
twice in the file or already in the registry, an unknown compound or building, a bad mobile).
Otherwise all rows are written in one transaction, with their history (simple_history's bulk
helpers). Addresses: the compound and the building must already be in the address book (标准地址
come first, so a typo does not invent a building); the room is created if new.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from grids.access import editable_grid_ids
from grids.models import (
    Compound,
    Dwelling,
    Household,
    RegistrationStatus,
    Relation,
    Resident,
    ResidentialBuilding,
)
from shanglong.crypto import keyed_hash
from shanglong.validators import (
    Gender,
    IdentityDocumentType,
    normalise_identity_number,
    parse_resident_id,
    validate_identity_document,
    validate_optional_mobile,
)
from shanglong.xlsx import ImportResult, SheetRow, cell_text, import_rows, read_rows, template_workbook


@dataclass(frozen=True)
class ImportColumn:
    """A column of the import sheet: the Chinese header the community's sheets carry (also
    the key rows are read by) and the translatable header, accepted as well."""

    key: str
    chinese: str
    header: Promise
    required: bool = False


COLUMNS = [
    ImportColumn("name", "姓名", gettext_lazy("Name"), required=True),
    ImportColumn("gender", "性别", gettext_lazy("Gender")),
    ImportColumn("birth_date", "出生日期", gettext_lazy("Date of birth")),
    ImportColumn("id_type", "证件类型", gettext_lazy("Identity document")),
    ImportColumn("id_number", "证件号码", gettext_lazy("Identity number"), required=True),
    ImportColumn("mobile", "手机号码", gettext_lazy("Mobile")),
    ImportColumn("compound", "小区", gettext_lazy("Compound"), required=True),
    ImportColumn("building", "楼栋", gettext_lazy("Building"), required=True),
    ImportColumn("unit", "单元", gettext_lazy("Unit")),
    ImportColumn("room", "室号", gettext_lazy("Room"), required=True),
    ImportColumn("relation", "与户主关系", gettext_lazy("Relation to the householder")),
    ImportColumn("registration_status", "户籍状态", gettext_lazy("Registration")),
    ImportColumn("moved_in", "迁入日期", gettext_lazy("Moved in")),
]
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

# The words people write in these columns, besides the stored codes and the English labels.
GENDER_WORDS = {"男": Gender.MALE, "女": Gender.FEMALE}
DOCUMENT_WORDS = {
    "居民身份证": IdentityDocumentType.RESIDENT_ID,
    "身份证": IdentityDocumentType.RESIDENT_ID,
    "港澳台居民居住证": IdentityDocumentType.HK_MACAO_TW_RESIDENCE,
    "外国人永久居留身份证": IdentityDocumentType.FOREIGN_PERMANENT_RESIDENCE,
    "护照": IdentityDocumentType.PASSPORT,
}
RELATION_WORDS = {
    "户主": Relation.SELF,
    "本人": Relation.SELF,
    "配偶": Relation.SPOUSE,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "子女": Relation.CHILD,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "父母": Relation.PARENT,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "孙子女": Relation.GRANDCHILD,
    "祖父母": Relation.GRANDPARENT,
    "兄弟姐妹": Relation.SIBLING,
    "儿媳": Relation.CHILD_IN_LAW,
    "女婿": Relation.CHILD_IN_LAW,
    "其他亲属": Relation.OTHER,
    "非亲属": Relation.NONE,
    "无": Relation.NONE,
}
REGISTRATION_WORDS = {
    "户籍": RegistrationStatus.HOUSEHOLD_REGISTERED,
    "户籍人口": RegistrationStatus.HOUSEHOLD_REGISTERED,
    "常住": RegistrationStatus.RESIDENT,
    "常住人口": RegistrationStatus.RESIDENT,
    "流动": RegistrationStatus.FLOATING,
    "流动人口": RegistrationStatus.FLOATING,
    "人在户不在": RegistrationStatus.REGISTERED_ELSEWHERE,
    "人户分离（人在户不在）": RegistrationStatus.REGISTERED_ELSEWHERE,
    "户在人不在": RegistrationStatus.LIVING_ELSEWHERE,
    "人户分离（户在人不在）": RegistrationStatus.LIVING_ELSEWHERE,
}
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def template() -> bytes:
    """The empty import sheet, with the Chinese headers."""
    return template_workbook([column.chinese for column in COLUMNS], sheet_title="居民导入")


def _choice(value: Any, choices: Any, words: dict[str, Any]) -> str | None:
    text = cell_text(value)
    if not text:
        return ""
    if text in words:
        return str(words[text])
    for code, label in choices.choices:
        if text.casefold() in {code.casefold(), str(label).casefold()}:
            return code
    return None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE_RE.match(text)
    if not match:
        raise ValueError(text)
    return datetime.date(*(int(part) for part in match.groups()))


@dataclass
class CleanRow:
    number: int
    resident: Resident
    building: ResidentialBuilding
    unit: str
    room: str


class ResidentImporter:
    """One import, by one person: the compounds and buildings they may write to are read once."""

    def __init__(self, rows: list[SheetRow], *, by: Any) -> None:
        self.by = by
        self.rows = rows
        compounds = Compound.objects.visible_to(by).filter(grid_id__in=editable_grid_ids(by))
        self.writable_compounds = compounds
        self.compounds: dict[str, list[Compound]] = {}
        for compound in compounds:
            self.compounds.setdefault(compound.name, []).append(compound)
        self.buildings = {
            (building.compound_id, building.name): building
            for building in ResidentialBuilding.objects.filter(compound__in=compounds)
        }
        numbers = {normalise_identity_number(cell_text(row.get("id_number"))) for row in rows if row.get("id_number")}
        hashes = {keyed_hash(number): number for number in numbers if number}
        self.registered = set(
            Resident.objects.filter(id_number_hash__in=list(hashes)).values_list("id_type", "id_number_hash")
        )
        self.seen: dict[tuple[str, str], int] = {}
        # The addresses where this file names a householder (their row may come after a relative's).
        self.householder_addresses = {
            self._raw_address(row) for row in rows if _choice(row.get("relation"), Relation, RELATION_WORDS) == "self"
        }

    @cached_property
    def joinable_addresses(self) -> set[tuple[int, str, str]]:
        """The addresses (building, unit, room) in the importer's compounds that have a household
        a relative may join (Household.objects.joinable), read once for the whole file."""
        return set(
            Household.objects.joinable()
            .filter(dwelling__building__compound__in=self.writable_compounds)
            .values_list("dwelling__building_id", "dwelling__unit", "dwelling__room")
        )

    @staticmethod
    def _raw_address(row: SheetRow) -> tuple[str, str, str, str]:
        return tuple(cell_text(row.get(key)) for key in ("compound", "building", "unit", "room"))  # type: ignore[return-value]

    def _building(self, compound: Compound, text: str) -> ResidentialBuilding | None:
        found = self.buildings.get((compound.pk, text))
        if found is None and text.isdigit():  # "3" for 3号楼
            found = self.buildings.get((compound.pk, f"{text}号楼"))
        return found

    def validate_row(self, row: SheetRow) -> tuple[CleanRow | None, list[tuple[str, str]]]:
        errors: list[tuple[str, str]] = []

        def error(key: str, message: str) -> None:
            errors.append((COLUMN_BY_KEY[key].chinese, message))

        for column in COLUMNS:
            if column.required and not cell_text(row.get(column.key)):
                error(column.key, _("This column is required."))
        name = cell_text(row.get("name"))
        gender = _choice(row.get("gender"), Gender, GENDER_WORDS)
        if gender is None:
            error("gender", _("Write 男 or 女."))
        doc_type = _choice(row.get("id_type"), IdentityDocumentType, DOCUMENT_WORDS)
        if doc_type is None:
            error(
                "id_type", _("Unknown document type: write 居民身份证, 港澳台居民居住证, 外国人永久居留身份证 or 护照.")
            )
        doc_type = doc_type or IdentityDocumentType.RESIDENT_ID
        birth_date = None
        if cell_text(row.get("birth_date")):
            try:
                birth_date = _date(row.get("birth_date"))
            except ValueError:
                error("birth_date", _("Write the date as 1980-05-17."))
        number = normalise_identity_number(cell_text(row.get("id_number")))
        if number:
            try:
                number = validate_identity_document(doc_type, number, birth_date=birth_date, gender=gender or None)
            except ValidationError as problem:
                for message in problem.messages:
                    error("id_number", message)
            else:
                if doc_type == IdentityDocumentType.RESIDENT_ID:
                    info = parse_resident_id(number)
                    birth_date = birth_date or info.birth_date
                    gender = gender or info.gender
                key = (doc_type, keyed_hash(number))
                if key in self.registered:
                    error("id_number", _("A resident with this identity number is already in the registry."))
                elif key in self.seen:
                    error(
                        "id_number",
                        _("The same identity number is on row %(row)d of this file.") % {"row": self.seen[key]},
                    )
                else:
                    self.seen[key] = row.number
        if not gender and not errors:
            error("gender", _("Write 男 or 女: this document does not tell the gender."))
        if not birth_date and not errors:
            error("birth_date", _("Write the date of birth: this document does not tell it."))
        try:
            mobile = validate_optional_mobile(cell_text(row.get("mobile")))
        except ValidationError as problem:
            mobile = ""
            error("mobile", problem.messages[0])
        relation = _choice(row.get("relation"), Relation, RELATION_WORDS)
        if relation is None:
            error("relation", _("Unknown relation: write 户主, 配偶, 子女, 父母, 其他亲属 or 非亲属."))
        status = _choice(row.get("registration_status"), RegistrationStatus, REGISTRATION_WORDS)
        if status is None:
            error("registration_status", _("Write 户籍, 常住, 流动, 人在户不在 or 户在人不在."))
        moved_in = None
        if cell_text(row.get("moved_in")):
            try:
                moved_in = _date(row.get("moved_in"))
            except ValueError:
                error("moved_in", _("Write the date as 2020-09-01."))
        compound_name, building_name, unit, room = self._raw_address(row)
        building = None
        if compound_name:
            candidates = self.compounds.get(compound_name, [])
            if not candidates:
                error("compound", _("Unknown compound %(name)s (or not in your grids).") % {"name": compound_name})
            elif len(candidates) > 1:
                error("compound", _("Several compounds are called %(name)s.") % {"name": compound_name})
            elif building_name:
                building = self._building(candidates[0], building_name)
                if building is None:
                    error(
                        "building",
                        _("%(compound)s has no building %(building)s in the address book.")
                        % {"compound": compound_name, "building": building_name},
                    )
        if (
            relation not in (None, "", Relation.SELF, Relation.NONE)
            and building is not None
            and (compound_name, building_name, unit, room) not in self.householder_addresses
            and (building.pk, unit, room) not in self.joinable_addresses
        ):
            error("relation", _("There is no householder at this address: add their row (户主) or leave this empty."))
        if errors:
            return None, errors
        resident = Resident(
            name=name,
            gender=gender,
            birth_date=birth_date,
            id_type=doc_type,
            mobile=mobile,
            relation=relation or "",
            registration_status=status or RegistrationStatus.RESIDENT,
            moved_in=moved_in,
        )
        resident.set_identity_number(number)
        return CleanRow(row.number, resident, building, unit, room), []

    def write(self, rows: list[CleanRow]) -> int:
        """Dwellings that are new, the households their householders start, then the
        residents, each with a history row; then the households get their householders."""
        by = self.by
        addresses = {(row.building.pk, row.unit, row.room) for row in rows}
        buildings = {row.building.pk for row in rows}
        existing = {
            (dwelling.building_id, dwelling.unit, dwelling.room): dwelling
            for dwelling in Dwelling.objects.filter(building_id__in=buildings)
        }
        missing = [
            Dwelling(building_id=building, unit=unit, room=room)
            for building, unit, room in sorted(addresses - set(existing))
        ]
        try:
            if missing:
                bulk_create_with_history(missing, Dwelling, default_user=by)
                existing = {
                    (dwelling.building_id, dwelling.unit, dwelling.room): dwelling
                    for dwelling in Dwelling.objects.filter(building_id__in=buildings)
                }
            new_households: dict[int, Household] = {}
            for row in rows:
                dwelling = existing[(row.building.pk, row.unit, row.room)]
                row.resident.dwelling = dwelling
                if row.resident.relation == Relation.SELF:
                    new_households[id(row)] = Household(dwelling=dwelling)
            if new_households:
                bulk_create_with_history(list(new_households.values()), Household, default_user=by)
            led_here = {household.dwelling_id: household for household in new_households.values()}
            earlier = {
                household.dwelling_id: household
                for household in Household.objects.joinable()
                .filter(dwelling_id__in=[dwelling.pk for dwelling in existing.values()])
                .order_by("pk")
            }
            for row in rows:
                resident = row.resident
                if resident.relation == Relation.SELF:
                    resident.household = new_households[id(row)]
                elif resident.relation and resident.relation != Relation.NONE:
                    resident.household = led_here.get(resident.dwelling.pk) or earlier.get(resident.dwelling.pk)
            residents = bulk_create_with_history([row.resident for row in rows], Resident, default_user=by)
            if new_households:
                by_household = {
                    resident.household_id: resident for resident in residents if resident.relation == Relation.SELF
                }
                households = list(new_households.values())
                for household in households:
                    household.householder = by_household[household.pk]
                bulk_update_with_history(households, Household, ["householder"], default_user=by)
        except IntegrityError as problem:
            raise ValidationError(
                _("The registry changed while importing (an identity number was added meanwhile). Try again.")
            ) from problem
        return len(residents)


def import_residents(uploaded_file: Any, *, by: Any) -> ImportResult:
    """Read, check and (only if every row is good) write the residents of an uploaded sheet.
    A file that cannot be read raises ValidationError with a message for the person."""
    sheet_rows = read_rows(uploaded_file, {column.chinese: column.header for column in COLUMNS})
    # Rows come keyed by the Chinese header (the name read_rows matches besides the
    # translations); the importer reads them by the column keys.
    rows = [SheetRow(row.number, {column.key: row.get(column.chinese) for column in COLUMNS}) for row in sheet_rows]
    importer = ResidentImporter(rows, by=by)
    return import_rows(rows, importer.validate_row, importer.write)
