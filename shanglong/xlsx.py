"""Excel (.xlsx) exports, import templates and imports: staff live in Excel.

Exports: a view builds the rows in the viewer's scope (``Model.objects.visible_to(user)``),
describes the columns, and sends `export_workbook(...)` through `xlsx_response(...)`. Times are
written as naive local time (Asia/Shanghai), because Excel has no time zones and openpyxl refuses
aware datetimes; the header row is bold and stays in view; an optional watermark line (who
exported, when) opens the sheet and the printed page header.

Imports: `read_rows` turns an uploaded workbook into one dict per row, keyed by field name,
accepting the header texts in any of the portal's languages. `import_rows` validates every row
first and writes all of them in one transaction only if none has an error, so a registry is never
half-imported; the person gets every problem at once, each with its row number and column.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_ROWS = 10_000
# Rows at the top of a sheet searched for the header row (an exported sheet opens with a watermark).
_HEADER_SEARCH_ROWS = 5
_EXCEL_SHEET_TITLE_MAX = 31

type Header = str | Promise


# --- Export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (a translatable string), how to get the value from a
    row, and optionally its width in characters.

    ``accessor`` is either a callable taking the row, or an attribute path ("grid.name" or
    "grid__name"); a path that ends at a method with no arguments (``get_kind_display``) is called.
    Rows that are mappings (``.values()`` querysets) are read by key."""

    header: Header
    accessor: str | Callable[[Any], Any]
    width: float | None = None

    def value_for(self, row: Any) -> Any:
        if callable(self.accessor):
            return self.accessor(row)
        value = row
        for part in self.accessor.replace("__", ".").split("."):
            if value is None:
                return None
            value = value.get(part) if isinstance(value, Mapping) else getattr(value, part)
        if callable(value) and not isinstance(value, models.Manager):
            value = value()
        return value


def excel_value(value: Any) -> Any:
    """A value as a cell can hold it: aware datetimes become naive local time, lazy strings and
    model instances become text, booleans become Yes/No, lists are joined with commas."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value, timezone.get_default_timezone())
        return value
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, int | float | Decimal | datetime.date | datetime.time | datetime.timedelta):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(excel_value(item)) for item in value)
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _text_cell(sheet: Any, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        # Keep text text: a name or note beginning with "=" must never run as a formula.
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet_title(title: Header) -> str:
    cleaned = "".join(char for char in str(title) if char not in "[]:*?/\\").strip()
    return (cleaned or "Sheet")[:_EXCEL_SHEET_TITLE_MAX]


def _column_width(column: Column) -> float:
    if column.width:
        return column.width
    # A CJK character is about two Latin characters wide.
    header = str(column.header)
    return max(10.0, min(60.0, sum(2 if ord(char) > 0x2E80 else 1 for char in header) + 4))


def export_workbook(
    rows: Iterable[Any],
    columns: Sequence[Column],
    *,
    sheet_title: Header,
    watermark: str | None = None,
) -> bytes:
    """Write rows (a queryset already scoped to the viewer, or any iterable) to an .xlsx file.

    The header row is bold and frozen. With a watermark (for example the exporter's name and
    the time), the sheet opens with that line and every printed page carries it in its header."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _column_width(column)
    header_row = 2 if watermark else 1
    # A write-only sheet writes its view settings with the first row: set them before it.
    sheet.freeze_panes = f"A{header_row + 1}"
    if watermark:
        sheet.oddHeader.center.text = watermark.replace("&", "&&")
        sheet.append([_text_cell(sheet, ILLEGAL_CHARACTERS_RE.sub("", watermark))])
    sheet.append([_text_cell(sheet, str(column.header), bold=True) for column in columns])
    if isinstance(rows, models.QuerySet):
        rows = rows.iterator(chunk_size=2000)
    for row in rows:
        sheet.append([_text_cell(sheet, excel_value(column.value_for(row))) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """An attachment response for an .xlsx file. The file name may be Chinese: it is sent as an
    RFC 5987 UTF-8 ``filename*`` with an ASCII fallback."""
    if not filename.lower().endswith(".xlsx"):
        filename = f"{filename}.xlsx"
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def template_workbook(headers: Sequence[Header], *, sheet_title: Header | None = None, rows: int = 500) -> bytes:
    """An empty import template: the bold, frozen header row, and text-formatted cells below it
    so that identity numbers and codes typed into it keep every digit."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(sheet_title or _("Import"))
    bold = Font(bold=True)
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index, value=str(header))
        cell.font = bold
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _column_width(Column(header, "pk"))
        for row in range(2, rows + 2):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Import ------------------------------------------------------------------------------------


class SheetRow(dict[str, Any]):
    """One data row of an uploaded sheet, keyed by field name; ``number`` is its row number in
    Excel, the one a person sees at the left of the sheet."""

    def __init__(self, number: int, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.number = number


def _header_texts(header: Header, field_name: str) -> set[str]:
    """Every spelling of a header that a sheet may carry: its text in each language, and the field name."""
    texts = {field_name.casefold()}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.add(str(header).strip().casefold())
    return texts


def _lazy_list(headers: Iterable[Header]) -> Any:
    """Headers joined for an error message, translated when the message is, not when it is raised."""
    headers = list(headers)
    return format_lazy(", ".join("{}" for _header in headers), *headers)


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def cell_text(value: Any) -> str:
    """A cell's value as text, as a person typed it (12 not 12.0; a date as 2026-01-05)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(
    uploaded_file: Any,
    expected_headers: Mapping[str, Header],
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> list[SheetRow]:
    """Read the first sheet of an uploaded .xlsx file into rows keyed by field name.

    ``expected_headers`` maps each field name to its header (a translatable string); a header
    cell matches in any language of the portal, or when it is the field name itself. The header
    row may be any of the first five rows (an exported sheet opens with a watermark); columns
    that are not expected are ignored; blank rows are skipped. A file that is not a readable
    .xlsx, lacks a header, has no data rows or has too many raises ValidationError with a
    message for the person who uploaded it."""
    wanted = {name: _header_texts(header, name) for name, header in expected_headers.items()}
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    source = io.BytesIO(uploaded_file) if isinstance(uploaded_file, bytes) else uploaded_file
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ParseError, OSError, ValueError, TypeError):
        raise ValidationError(
            _("The file is not an Excel workbook (.xlsx). Save it as “Excel Workbook (*.xlsx)” and upload it again."),
            code="not_xlsx",
        ) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ValidationError(_("The workbook has no sheet."), code="empty")
        lines = sheet.iter_rows(values_only=True)
        positions: dict[str, int] = {}
        header_number = 0
        seen_any_value = False
        for number, line in enumerate(lines, start=1):
            found: dict[str, int] = {}
            for index, cell in enumerate(line or ()):
                text = str(cell).strip().casefold() if cell is not None else ""
                seen_any_value = seen_any_value or bool(text)
                for name, texts in wanted.items():
                    if text and text in texts and name not in found:
                        found[name] = index
            if len(found) > len(positions):
                positions, header_number = found, number
            if len(found) == len(wanted) or number >= _HEADER_SEARCH_ROWS:
                break
        if not seen_any_value:
            raise ValidationError(_("The file is empty."), code="empty")
        if not positions:
            raise ValidationError(
                _("The first rows of the sheet do not hold the headers of the template. Expected: %(headers)s."),
                code="missing_headers",
                params={"headers": _lazy_list(expected_headers.values())},
            )
        missing = [header for name, header in expected_headers.items() if name not in positions]
        if missing:
            raise ValidationError(
                _("The sheet lacks these columns: %(headers)s. Download the template and copy the data into it."),
                code="missing_headers",
                params={"headers": _lazy_list(missing)},
            )
        rows: list[SheetRow] = []
        for number, line in enumerate(lines, start=header_number + 1):
            values = {
                name: _cell_value(line[index]) if index < len(line) else None for name, index in positions.items()
            }
            if all(value is None for value in values.values()):
                continue
            if len(rows) >= max_rows:
                raise ValidationError(
                    _("The file has more than %(max)d rows. Split it into smaller files."),
                    code="too_many_rows",
                    params={"max": max_rows},
                )
            rows.append(SheetRow(number, values))
    except (zipfile.BadZipFile, KeyError, ParseError, OSError) as error:
        raise ValidationError(
            _("The workbook could not be read; it may be damaged. Save it again in Excel and upload it again."),
            code="not_xlsx",
        ) from error
    finally:
        workbook.close()
    if not rows:
        raise ValidationError(_("The sheet has headers but no data rows."), code="empty")
    return rows


@dataclass(frozen=True)
class RowError:
    """One problem found in an uploaded sheet: the row number in Excel (0 for the whole file),
    the column header as the person sees it ("" for the whole row) and what is wrong."""

    row_number: int
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import did: how many rows were read and written, and every error found.
    Nothing was written when there is any error."""

    total: int = 0
    written: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# validate_row(row) returns the cleaned row (anything `write` understands) and a list of
# (column header, message) pairs; an empty list means the row is good.
type RowValidator = Callable[[SheetRow], tuple[Any, Sequence[tuple[str, str]]]]
type RowWriter = Callable[[list[Any]], int | None]


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def import_rows(rows: Sequence[SheetRow], validate_row: RowValidator, write: RowWriter) -> ImportResult:
    """Validate every row, then write them all in one transaction, or write nothing.

    ``validate_row`` may also raise ValidationError for a row (reported against the whole row).
    ``write`` receives the cleaned rows in order and returns how many records it wrote (None
    means one per row); if it raises ValidationError, everything is rolled back and the message
    is reported against the file."""
    result = ImportResult(total=len(rows))
    cleaned_rows: list[Any] = []
    for row in rows:
        try:
            cleaned, errors = validate_row(row)
        except ValidationError as error:
            cleaned, errors = None, [("", message) for message in _messages(error)]
        if errors:
            result.errors.extend(RowError(row.number, str(column), str(message)) for column, message in errors)
        else:
            cleaned_rows.append(cleaned)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            written = write(cleaned_rows)
    except ValidationError as error:
        result.errors.extend(RowError(0, "", message) for message in _messages(error))
        return result
    result.written = len(cleaned_rows) if written is None else written
    return result
