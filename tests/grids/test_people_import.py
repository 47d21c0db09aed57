"""Importing residents from .xlsx: the template has Chinese headers; every row is valid or
nothing is written, with a row-by-row report naming each kind of problem."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from grids.actions import move_out_resident, save_resident
from grids.importing import COLUMNS
from grids.models import Dwelling, Household, Resident
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.people_world import build_people, resident_id

pytestmark = pytest.mark.django_db

HEADERS = [column.chinese for column in COLUMNS]


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


def row(name="张三", number=None, **values):
    data = {
        "姓名": name,
        "性别": "男",
        "出生日期": "1985-03-04",
        "证件类型": "居民身份证",
        "证件号码": number or resident_id("1985-03-04", 50),
        "手机号码": "13800001111",
        "小区": "小区cA",
        "楼栋": "1号楼",
        "单元": "2单元",
        "室号": "301",
        "与户主关系": "户主",
        "户籍状态": "常住",
        "迁入日期": "2019-07-01",
    }
    data.update(values)
    return data


def sheet(*rows, headers=HEADERS) -> SimpleUploadedFile:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.append(headers)
    for values in rows:
        worksheet.append([values.get(header, "") for header in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("居民.xlsx", buffer.getvalue())


def upload(user, file):
    return client_for(user).post(reverse("grids:resident_import"), {"file": file})


def good_rows():
    return [
        row("李四", resident_id("2010-01-01", 52), 性别="", 出生日期="", 与户主关系="子女", 手机号码=""),
        row(),
        row("王五", resident_id("1987-08-09", 51, male=False), 性别="女", 出生日期="1987-08-09", 与户主关系="配偶"),
        row(
            "赵六",
            resident_id("1990-02-02", 53),
            出生日期="19900202",
            楼栋="1",
            室号="402",
            与户主关系="",
            户籍状态="流动",
        ),
    ]


def test_the_template_has_the_chinese_headers(staff):
    response = client_for(staff).get(reverse("grids:resident_import_template"))
    assert response.status_code == 200
    header = next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(header) == HEADERS


def test_a_good_sheet_is_imported_with_households_addresses_and_history(staff, people):
    response = upload(staff, sheet(*good_rows()))
    assert response.status_code == 302, response.context["result"].errors
    head = Resident.objects.get(name="张三")
    child = Resident.objects.get(name="李四")
    spouse = Resident.objects.get(name="王五")
    lodger = Resident.objects.get(name="赵六")
    assert head.dwelling.address == "小区cA1号楼2单元301"
    assert Dwelling.objects.filter(building__compound__name="小区cA").count() == 3  # 101 existed; 301 and 402 added
    household = Household.objects.get(householder=head)
    assert {r.name for r in household.members.all()} == {"张三", "李四", "王五"}
    assert lodger.household is None
    assert lodger.registration_status == "floating"
    # Gender and date of birth come from the identity number when left empty.
    assert (child.gender, str(child.birth_date)) == ("male", "2010-01-01")
    assert spouse.gender == "female"
    for resident in (head, child, spouse, lodger):
        assert list(resident.history.values_list("history_type", "history_user")) == [("+", staff.pk)]
    assert household.history.count() == 2  # created, then given its householder


BAD_NUMBER = resident_id("1985-03-04", 60)
WRONG_CHECK = BAD_NUMBER[:-1] + ("0" if BAD_NUMBER[-1] != "0" else "1")


def bad(**values):
    """The fourth row of a sheet whose other rows are good."""
    return row("错行", values.pop("number", BAD_NUMBER), **values)


@pytest.mark.parametrize(
    ("bad_row", "column", "words"),
    [
        (
            bad(number=WRONG_CHECK),
            "证件号码",
            "does not match the others",
        ),
        (bad(出生日期="1985-03-05"), "证件号码", "does not match the identity number"),
        (bad(性别="女"), "证件号码", "man's"),
        (bad(number="37050219850304005"), "证件号码", "18 characters"),
        (bad(小区="不存在小区"), "小区", "Unknown compound"),
        (bad(小区="小区cB"), "小区", "Unknown compound"),  # another grid's: not the grid worker's
        (bad(楼栋="99号楼"), "楼栋", "no building 99号楼"),
        (bad(手机号码="1380000111"), "手机号码", "mainland mobile"),
        (bad(出生日期="三月四日"), "出生日期", "1980-05-17"),
        (bad(与户主关系="子女", 室号="999"), "与户主关系", "no householder"),
        (bad(户籍状态="暂住"), "户籍状态", "户籍"),
        (bad(姓名=""), "姓名", "required"),
    ],
)
def test_one_bad_row_means_nothing_is_written_and_the_report_says_why(grid_worker, people, bad_row, column, words):
    before = Resident.objects.count()
    response = upload(grid_worker, sheet(*good_rows()[:2], bad_row))
    assert response.status_code == 200
    errors = response.context["result"].errors
    assert [(error.row_number, error.column) for error in errors] == [(4, column)], errors
    assert words in errors[0].message
    assert Resident.objects.count() == before
    assert not Dwelling.objects.filter(room="301").exists()


def test_duplicates_in_the_file_and_in_the_registry_are_reported_by_row(staff, people):
    existing = people["residents"]["A"]
    same = resident_id("1985-03-04", 50)
    response = upload(
        staff,
        sheet(
            row(),
            row("重复", same),
            row("已有", existing.id_number, 出生日期="1980-05-17", 与户主关系=""),
        ),
    )
    errors = response.context["result"].errors
    assert [(error.row_number, error.column) for error in errors] == [(3, "证件号码"), (4, "证件号码")]
    assert "row 2 of this file" in errors[0].message
    assert "already in the registry" in errors[1].message
    assert not Resident.objects.filter(name="张三").exists()


def test_a_relative_joins_the_household_of_a_householder_in_the_registry_who_still_lives_there(staff, people):
    address = {"小区": "小区cA", "楼栋": "1号楼", "单元": "1单元", "室号": "101"}
    head = people["residents"]["A"]
    head.relation = "self"
    save_resident(resident=head, id_number=None, by=staff)  # as the form does: 居民A leads a household at 101
    household = Household.objects.get(householder=head)
    response = upload(
        staff, sheet(row("李四", resident_id("2010-01-01", 52), 出生日期="", 与户主关系="子女", **address))
    )
    assert response.status_code == 302, response.context["result"].errors
    assert Resident.objects.get(name="李四").household == household
    # Once the householder has moved out, a relative has no household there to join.
    move_out_resident(resident=head, on=datetime.date(2025, 10, 1), by=staff)
    response = upload(
        staff, sheet(row("王五", resident_id("2011-01-01", 53), 出生日期="", 与户主关系="子女", **address))
    )
    errors = response.context["result"].errors
    assert [(error.row_number, error.column) for error in errors] == [(2, "与户主关系")]
    assert "no householder" in errors[0].message
    assert not Resident.objects.filter(name="王五").exists()


@pytest.mark.parametrize("rows", [5, 30])
def test_checking_a_sheet_does_not_query_per_row(staff, people, django_assert_num_queries, rows):
    relatives = [
        row(
            f"亲属{number}",
            resident_id("2010-01-01", 60 + number),
            出生日期="",
            与户主关系="子女",
            室号=f"5{number:02d}",
        )
        for number in range(rows)
    ]
    client, file = client_for(staff), sheet(*relatives)
    # session, user; the importer's compounds, their buildings, the numbers already registered,
    # the addresses with a household to join; the unread messages of the page
    with django_assert_num_queries(7):
        response = client.post(reverse("grids:resident_import"), {"file": file})
    assert len(response.context["result"].errors) == rows  # no householder at any of these rooms


def test_english_headers_are_accepted_too(staff, people):
    english = [str(column.header) for column in COLUMNS]
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.append(english)
    worksheet.append([row()[column.chinese] for column in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(staff, SimpleUploadedFile("r.xlsx", buffer.getvalue()))
    assert response.status_code == 302
    assert Resident.objects.filter(name="张三").exists()


def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(staff, people):
    response = upload(staff, SimpleUploadedFile("r.xlsx", b"not a workbook"))
    assert "not an Excel workbook" in str(response.context["form"].errors["file"])


@pytest.mark.parametrize("person", ["department_user", "subdistrict_user", "merchant_user"])
def test_only_community_staff_import(request, person, people):
    user = request.getfixturevalue(person)
    assert client_for(user).get(reverse("grids:resident_import")).status_code == 403
    assert upload(user, sheet(row())).status_code == 403
    assert not Resident.objects.filter(name="张三").exists()
