"""Excel exports and imports: Chinese headers, local times, all-or-nothing imports, clear errors."""

from __future__ import annotations

import datetime
import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shanglong.models import CalendarDay, CalendarDayKind
from shanglong.xlsx import (
    XLSX_CONTENT_TYPE,
    Column,
    cell_text,
    export_workbook,
    import_rows,
    read_rows,
    template_workbook,
    xlsx_response,
)

# The calendar's own columns serve as the sample registry.
HEADERS = {"date": _("Date"), "kind": _("Kind"), "name": _("Name")}


def zh(header) -> str:
    """A header as a Chinese sheet carries it (the English source until locale/ translates it)."""
    with translation.override("zh-hans"):
        return str(header)


def zh_headers() -> list[str]:
    return [zh(header) for header in HEADERS.values()]


def sheet_of(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def upload(content: bytes, name: str = "导入.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX_CONTENT_TYPE)


def workbook_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Export ------------------------------------------------------------------------------------


def test_export_has_chinese_headers_naive_local_times_and_a_frozen_bold_header():
    rows = [
        {"name": "商隆社区", "at": datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.UTC), "ok": True},
        {"name": '=HYPERLINK("http://x")', "at": None, "ok": False},
    ]
    columns = [
        Column("商户名称", "name", width=30),
        Column("登记时间", "at"),
        Column("已核实", lambda row: row["ok"]),
    ]
    with translation.override("zh-hans"):
        content = export_workbook(rows, columns, sheet_title=_("Registry"), watermark="王建华 2026-11-28 09:30")
        expected_headers = [str(column.header) for column in columns]
    sheet = sheet_of(content)
    assert sheet["A1"].value == "王建华 2026-11-28 09:30"
    assert "王建华" in sheet.oddHeader.center.text
    assert [cell.value for cell in sheet[2]] == expected_headers
    assert expected_headers[:2] == ["商户名称", "登记时间"]
    assert sheet["A2"].font.bold
    assert sheet.freeze_panes == "A3"
    assert sheet["A3"].value == "商隆社区"
    # 2026-01-01 00:00 UTC is 08:00 in Dongying; Excel gets it naive.
    assert sheet["B3"].value == datetime.datetime(2026, 1, 1, 8, 0)
    assert sheet["B3"].value.tzinfo is None
    assert sheet["C3"].value == "是"
    # A name that looks like a formula stays text.
    assert sheet["A4"].value == '=HYPERLINK("http://x")'
    assert sheet["A4"].data_type == "s"
    assert sheet.column_dimensions["A"].width == 30


@pytest.mark.django_db
def test_export_reads_model_attributes_and_display_methods():
    CalendarDay.objects.create(date=datetime.date(2026, 10, 8), kind=CalendarDayKind.HOLIDAY, name="国庆节")
    columns = [Column(_("Date"), "date"), Column(_("Kind"), "get_kind_display"), Column(_("Name"), "name")]
    with translation.override("en"):
        sheet = sheet_of(export_workbook(CalendarDay.objects.all(), columns, sheet_title="Calendar"))
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == ["Date", "Kind", "Name"]
    assert sheet["A2"].value.date() == datetime.date(2026, 10, 8)
    assert sheet["B2"].value == "Public holiday"
    assert sheet["C2"].value == "国庆节"


def test_response_carries_a_chinese_file_name():
    response = xlsx_response(b"PK", "商户名录 2026-11.xlsx")
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('商户名录 2026-11.xlsx')}" in disposition
    assert xlsx_response(b"PK", "merchants")["Content-Disposition"] == 'attachment; filename="merchants.xlsx"'


def test_template_has_the_headers_and_text_cells():
    with translation.override("zh-hans"):
        content = template_workbook(list(HEADERS.values()))
        expected = [str(header) for header in HEADERS.values()]
    sheet = sheet_of(content)
    assert [cell.value for cell in sheet[1]] == expected
    assert sheet["A1"].font.bold
    assert sheet["A2"].number_format == "@"


# --- Import ------------------------------------------------------------------------------------


def validate_calendar_row(row):
    """A tiny importer of calendar days, as a later registry importer would look."""
    errors = []
    date = row["date"]
    if isinstance(date, datetime.datetime):
        date = date.date()
    elif date is not None:
        try:
            date = datetime.date.fromisoformat(cell_text(date))
        except ValueError:
            errors.append((str(HEADERS["date"]), "not a date"))
    else:
        errors.append((str(HEADERS["date"]), "required"))
    if row["kind"] not in CalendarDayKind.values:
        errors.append((str(HEADERS["kind"]), f"unknown kind {row['kind']!r}"))
    return {"date": date, "kind": row["kind"], "name": cell_text(row["name"])}, errors


def write_calendar_days(cleaned):
    CalendarDay.objects.bulk_create(CalendarDay(**values) for values in cleaned)


@pytest.mark.django_db
def test_import_with_one_bad_row_writes_nothing_and_names_the_row():
    content = workbook_bytes(
        [
            zh_headers(),
            [datetime.datetime(2027, 10, 1), "holiday", "国庆节"],
            ["2027-10-04", "holiday", "国庆节"],
            ["2027-10-09", "weekend", "国庆节"],  # row 4: no such kind
            [None, None, None],
            ["2027-10-10", "makeup_workday", 20271010],
        ]
    )
    rows = read_rows(upload(content), HEADERS)
    assert [row.number for row in rows] == [2, 3, 4, 6]
    result = import_rows(rows, validate_calendar_row, write_calendar_days)
    assert not result.ok
    assert result.written == 0
    assert result.total == 4
    assert [(error.row_number, error.column) for error in result.errors] == [(4, str(HEADERS["kind"]))]
    assert "weekend" in result.errors[0].message
    assert CalendarDay.objects.count() == 0


@pytest.mark.django_db
def test_good_import_writes_every_row_in_one_go():
    content = workbook_bytes(
        [
            ["Date", "Kind", "Name"],
            ["2027-10-04", "holiday", "国庆节"],
            ["2027-10-10", "makeup_workday", None],
        ]
    )
    result = import_rows(read_rows(upload(content), HEADERS), validate_calendar_row, write_calendar_days)
    assert result.ok
    assert result.written == 2
    assert list(CalendarDay.objects.values_list("date", "kind")) == [
        (datetime.date(2027, 10, 4), "holiday"),
        (datetime.date(2027, 10, 10), "makeup_workday"),
    ]


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_everything_back():
    content = workbook_bytes([zh_headers(), ["2027-10-04", "holiday", "x"], ["2027-10-05", "holiday", "y"]])

    def write_then_fail(cleaned):
        write_calendar_days(cleaned)
        raise ValidationError("The registry changed while importing.")

    result = import_rows(read_rows(upload(content), HEADERS), validate_calendar_row, write_then_fail)
    assert [(error.row_number, error.message) for error in result.errors] == [
        (0, "The registry changed while importing.")
    ]
    assert CalendarDay.objects.count() == 0


def test_an_exported_sheet_with_a_watermark_reads_back():
    columns = [Column(header, name) for name, header in HEADERS.items()]
    content = export_workbook(
        [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}], columns, sheet_title="x", watermark="导出人 张伟"
    )
    rows = read_rows(content, HEADERS)
    assert rows == [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]
    assert rows[0].number == 3


def test_wrong_headers_are_rejected_with_the_missing_columns_named():
    content = workbook_bytes([[zh(HEADERS["date"]), "种类", zh(HEADERS["name"])], ["2027-10-04", "holiday", "x"]])
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(content), HEADERS)
    assert caught.value.error_list[0].code == "missing_headers"
    with translation.override("en"):
        assert "Kind" in caught.value.messages[0]
    content = workbook_bytes([["a", "b"], [1, 2]])
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(content), HEADERS)
    assert caught.value.error_list[0].code == "missing_headers"


@pytest.mark.parametrize(
    "content",
    [
        b"date,kind,name\n2027-10-04,holiday,x\n",  # a CSV renamed to .xlsx
        b"PK\x03\x04 broken zip",
        b"",
        "日期".encode("gbk"),
    ],
)
def test_a_file_that_is_not_xlsx_is_rejected_clearly(content):
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(content), HEADERS)
    assert caught.value.error_list[0].code == "not_xlsx"
    with translation.override("en"):
        assert ".xlsx" in caught.value.messages[0]


def test_empty_sheet_and_headers_without_rows_are_rejected():
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(workbook_bytes([])), HEADERS)
    assert caught.value.error_list[0].code == "empty"
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(workbook_bytes([zh_headers()])), HEADERS)
    assert caught.value.error_list[0].code == "empty"


def test_too_many_rows_are_refused():
    content = workbook_bytes([zh_headers(), *[["2027-01-01", "holiday", str(n)] for n in range(6)]])
    with pytest.raises(ValidationError) as caught:
        read_rows(upload(content), HEADERS, max_rows=5)
    assert caught.value.error_list[0].code == "too_many_rows"
