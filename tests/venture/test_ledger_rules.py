"""Money that adds up (issue #15): the one expenditure rule for the form and the import, invoices (发票), duplicates,
and ledger files as finance officers produce them. Each test names the Found item it holds."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, IntegrityError, transaction
from openpyxl import Workbook

from tests.builders import PDF, START, TODAY, build_funded, day, line, spend
from venture.audit.models import AuditEvent
from venture.supervision import expenditure_rules, ledger, ledger_files
from venture.supervision.models import Expenditure, FundedProject, LedgerImport

HEADER = "日期,预算科目,明细项目,金额,收款方,摘要,凭证号"
E_INVOICE = "26442000000123456789"  # 数电票: 20 digits
USCC = "91110000600037341L"  # a valid 统一社会信用代码 (check digit L)


@pytest.fixture(autouse=True)
def _english(_test_settings, settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def f(db):
    return build_funded()


def csv_file(rows, header=HEADER, encoding="utf-8-sig", name="台账.csv", sep=","):
    text = "\n".join([header.replace(",", sep), *[r.replace(",", sep) if sep != "," else r for r in rows]]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows, header=None, name="台账.xlsx"):
    book = Workbook()
    sheet = book.active
    sheet.append(header or HEADER.split(","))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def post_import(client, project, upload):
    return client.post(f"/supervision/projects/{project.pk}/ledger/import/", {"file": upload})


def report_of(r):
    report = r.context["import_report"]
    return (report.rows, report.problems, report.failed) if report else None


def form_errors(r, name):
    form = r.context["import_form"]
    return form.errors.get(name)


def spent(project):
    return FundedProject.objects.get(pk=project.pk).spent_total


# --- Found 1: the import bypassed the entry rules; totals overflowed; 1e30 answered 500 ------------------------------


def test_found1_import_refuses_amounts_beyond_the_maximum_and_the_page_stays_up(client, f):
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        csv_file(
            [
                f"{day(10)},活动经费,活动经费项目,9999999999.99,示范市文具店,活动物资,PZ-1",
                f"{day(10)},活动经费,活动经费项目,9999999999.99,示范市文具店,活动物资,PZ-2",
                f"{day(10)},活动经费,活动经费项目,99999999999999.99,示范市文具店,活动物资,PZ-3",
            ]
        ),
    )
    assert r.status_code == 400
    assert report_of(r) == (3, 3, [(n, ["金额: A single entry is at most ¥10,000,000.00."]) for n in (2, 3, 4)])
    assert Expenditure.objects.count() == 0 and spent(f.project) == Decimal("0.00")
    for url in (f"/supervision/projects/{f.project.pk}/", f"/supervision/projects/{f.project.pk}/ledger/"):
        assert client.get(url).status_code == 200


def test_found1_exponent_notation_is_refused_never_a_500(client, f):
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        csv_file(
            [
                f"{day(10)},活动经费,活动经费项目,1e30,示范市文具店,活动物资,PZ-1",
                f"{day(10)},活动经费,活动经费项目,1e3,示范市文具店,活动物资,PZ-2",
            ]
        ),
    )
    assert r.status_code == 400
    assert report_of(r) == (
        2,
        2,
        [
            (2, ["金额: Write the amount in full, without exponent notation (“1e30”)."]),
            (3, ["金额: Write the amount in full, without exponent notation (“1e3”)."]),
        ],
    )
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/add/",
        {
            "date": day(10).isoformat(),
            "line": line(f.project, "活动经费").pk,
            "amount": "1e30",
            "payee": "店",
            "description": "物资",
            "voucher_no": "PZ-9",
        },
    )
    assert r.status_code == 400
    assert r.context["form"].errors["amount"] == ["Write the amount in full, without exponent notation (“1e30”)."]
    assert Expenditure.objects.count() == 0


def test_found1_the_running_totals_never_hold_what_their_fields_cannot(f):
    # Every total is guarded by the database itself, whatever path writes it.
    for queryset, name in (
        (FundedProject.objects.filter(pk=f.project.pk), "spent_total"),
        (f.project.lines.all(), "spent"),
    ):
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():
            queryset.update(**{name: Decimal("9999999999.99") + 1})
    # The rule counts the project's running total: 9,999,999,999.99 twice does not fit even below the entry limit.
    project = FundedProject.objects.get(pk=f.project.pk)
    project.spent_total = Decimal("9999999999.99") - Decimal("5000000.00")  # as if spent on earlier
    errors = expenditure_rules.validate_expenditure(
        project,
        by=f.owner,
        date=day(10),
        amount=Decimal("5000000.01"),
        line=line(project, "活动经费"),
        receipt_pending=True,
        voucher_no="PZ-1",
    )
    assert errors == {
        "amount": [
            "With this entry the project's spending would exceed ¥9,999,999,999.99, more than the ledger can hold."
        ]
    }


def test_found1_a_total_that_cannot_be_stored_is_refused_not_a_500(f):
    # Rows written past the rule (a restore, a hand-made change) cannot make the next entry store a broken total.
    Expenditure.objects.bulk_create(
        [
            Expenditure(
                project=f.project,
                date=day(5),
                category=line(f.project, "活动经费").category,
                line=line(f.project, "活动经费"),
                amount=Decimal("9999999999.99"),
                payee="x",
                description="x",
                voucher_no=f"X{i}",
            )
            for i in range(2)
        ]
    )
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "10.00")
    assert caught.value.messages == ["The project's spending would exceed what the ledger can hold; nothing was saved."]
    assert FundedProject.objects.get(pk=f.project.pk).spent_total == Decimal("0.00")


# --- Found 2: closed and suspended books --------------------------------------------------------------------------


def test_found2_a_closed_project_takes_no_entry_and_no_import(client, f):
    FundedProject.objects.filter(pk=f.project.pk).update(status="closed")
    f.project.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "100.00")
    assert caught.value.messages == ["The project is closed; its ledger takes no more entries."]
    client.force_login(f.staff)
    r = post_import(client, f.project, csv_file([f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-1"]))
    assert r.status_code == 400
    assert report_of(r) == (1, 1, [(2, ["The project is closed; its ledger takes no more entries."])])
    assert Expenditure.objects.count() == 0


def test_found2_a_suspended_project_needs_staff_and_a_reason(client, f):
    FundedProject.objects.filter(pk=f.project.pk).update(status="suspended", flag_reason="中期评估未通过")
    f.project.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "100.00", by=f.owner)
    assert caught.value.messages == [
        "The project is suspended (中期评估未通过); only staff can record an entry, with a reason."
    ]
    with pytest.raises(ValidationError):
        spend(f.project, "100.00", by=f.staff)  # staff, but no reason
    entry = spend(f.project, "100.00", by=f.staff, staff_reason="暂停前已发生的场地费")
    assert entry.amount == Decimal("100.00") and spent(f.project) == Decimal("100.00")
    event = AuditEvent.objects.filter(action="expenditure.record").latest("id")
    assert event.after["reason"] == "暂停前已发生的场地费"
    client.force_login(f.owner)
    r = client.post(
        f"/supervision/projects/{f.project.pk}/ledger/add/",
        {
            "date": day(10).isoformat(),
            "line": line(f.project, "活动经费").pk,
            "amount": "50",
            "payee": "店",
            "description": "物资",
            "voucher_no": "PZ-77",
        },
    )
    assert r.status_code == 400
    assert r.context["form"].non_field_errors() == [
        "The project is suspended (中期评估未通过); only staff can record an entry, with a reason."
    ]


# --- Found 4: duplicates and future dates ---------------------------------------------------------------------------


def test_found4_a_future_date_is_refused_in_the_form_and_the_import(client, f):
    tomorrow = TODAY + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "100.00", date=tomorrow)
    assert caught.value.messages == [f"The date {tomorrow} is in the future; record an expense once it is paid."]
    client.force_login(f.owner)
    r = post_import(client, f.project, csv_file([f"{tomorrow},活动经费,活动经费项目,100,店,物资,PZ-1"]))
    assert report_of(r) == (
        1,
        1,
        [(2, [f"日期: The date {tomorrow} is in the future; record an expense once it is paid."])],
    )


def test_found4_the_same_voucher_twice_in_a_project_is_refused_naming_the_earlier_row(client, f):
    spend(f.project, "120.00", voucher_no="PZ-7", date=day(3))
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "80.00", voucher_no="PZ-7")
    assert caught.value.message_dict == {
        "voucher_no": [f"Voucher number PZ-7 is already recorded in this ledger: {day(3)} ¥120.00."]
    }
    spend(f.other_project, "80.00", voucher_no="PZ-7")  # another project keeps its own numbering
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        csv_file(
            [
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-8",
                f"{day(11)},活动经费,活动经费项目,100,店,物资,PZ-8",
                f"{day(12)},活动经费,活动经费项目,100,店,物资,PZ-7",
            ]
        ),
    )
    assert report_of(r) == (
        3,
        2,
        [
            (3, ["凭证号: Voucher number PZ-8 is also on row 2."]),
            (4, [f"凭证号: Voucher number PZ-7 is already recorded in this ledger: {day(3)} ¥120.00."]),
        ],
    )


def test_found4_the_same_file_imported_twice_is_refused_naming_the_first_import(client, f):
    client.force_login(f.owner)
    rows = [f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-1", f"{day(11)},活动经费,活动经费项目,50,店,物资,PZ-2"]
    assert post_import(client, f.project, csv_file(rows)).status_code == 302
    first = LedgerImport.objects.get()
    assert (first.rows, list(first.entries.values_list("voucher_no", flat=True))) == (2, ["PZ-1", "PZ-2"])
    r = post_import(client, f.project, csv_file(rows))
    assert r.status_code == 400
    assert form_errors(r, "__all__") == [
        f"This file was already imported on {first.created_at.astimezone().strftime('%Y-%m-%d %H:%M')} by "
        f"{f.owner.get_full_name() or f.owner.username} (2 rows, vouchers PZ-1 … PZ-2); it was not imported again."
    ]
    assert spent(f.project) == Decimal("150.00")


# --- Found 5: an unknown line was booked to the category -------------------------------------------------------------


def test_found5_an_unknown_budget_line_is_refused_naming_it(client, f):
    client.force_login(f.owner)
    r = post_import(client, f.project, csv_file([f"{day(10)},活动经费,团建聚餐,100,店,物资,PZ-1"]))
    assert r.status_code == 400
    assert report_of(r) == (1, 1, [(2, ["明细项目: “团建聚餐” is not an approved budget line of “活动经费”."])])
    # An empty 明细项目 still books to the category (as before).
    r = post_import(client, f.project, csv_file([f"{day(10)},差旅费,,100,店,物资,PZ-1"], header=HEADER))
    assert report_of(r) == (1, 1, [(2, ["预算科目: “差旅费” is not a budget category of this round"])])


# --- Invoices (发票) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code", "number", "expected"),
    [
        ("digital", "", E_INVOICE, {}),
        ("vat", "4400231130", "01234567", {}),
        ("vat", "044002300111", "01234567", {}),
        ("digital", "", "2644200000012345678", {"invoice_number": "A fully digital e-invoice number has 20 digits."}),
        (
            "digital",
            "4400231130",
            E_INVOICE,
            {"invoice_code": "A fully digital e-invoice has no invoice code; leave it empty."},
        ),
        ("vat", "44002311", "01234567", {"invoice_code": "A VAT invoice code has 10 or 12 digits."}),
        ("vat", "4400231130", "0123456", {"invoice_number": "A VAT invoice number has 8 digits."}),
        ("", "", "01234567", {"invoice_kind": "Choose the kind of invoice."}),
    ],
)
def test_invoice_fields_are_validated(kind, code, number, expected):
    assert expenditure_rules.invoice_errors(kind, code, number) == expected


def test_payee_uscc_check_digit(f):
    errors = expenditure_rules.validate_expenditure(
        f.project,
        by=f.owner,
        date=day(10),
        amount=Decimal("10.00"),
        line=line(f.project, "活动经费"),
        voucher_no="PZ-1",
        payee_uscc="91110000600037341A",
    )
    assert errors == {
        "payee_uscc": ["The check digit of this unified social credit code is wrong; please check the code."]
    }
    entry = spend(
        f.project, "10.00", payee_uscc=USCC, invoice_kind="vat", invoice_code="4400231130", invoice_number="01234567"
    )
    assert (entry.payee_uscc, entry.invoice_kind, entry.invoice_code, entry.invoice_number) == (
        USCC,
        "vat",
        "4400231130",
        "01234567",
    )


def test_the_same_invoice_twice_on_the_platform_is_refused_with_a_link_for_those_who_may_see(client, f):
    first = spend(f.project, "100.00", voucher_no="PZ-1", invoice_kind="digital", invoice_number=E_INVOICE)
    # The other organization: refused, told only that it was claimed elsewhere.
    with pytest.raises(ValidationError) as caught:
        spend(f.other_project, "100.00", by=f.other, invoice_kind="digital", invoice_number=E_INVOICE)
    assert caught.value.message_dict == {
        "invoice_number": ["This invoice was already claimed in another project on the platform."]
    }
    client.force_login(f.other)
    r = client.post(
        f"/supervision/projects/{f.other_project.pk}/ledger/add/",
        {
            "date": day(10).isoformat(),
            "line": line(f.other_project, "活动经费").pk,
            "amount": "100",
            "payee": "店",
            "description": "物资",
            "voucher_no": "PZ-1",
            "invoice_kind": "digital",
            "invoice_number": E_INVOICE,
        },
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "This invoice was already claimed in another project on the platform." in body
    assert f.project.title not in body
    # Staff see the first claim, linked.
    with pytest.raises(ValidationError) as caught:
        spend(f.other_project, "100.00", by=f.staff, invoice_kind="digital", invoice_number=E_INVOICE)
    assert caught.value.message_dict == {
        "invoice_number": [
            f'This invoice was already claimed: <a href="/supervision/projects/{f.project.pk}/ledger/#entry-{first.pk}">'
            f"{f.project.title}</a> ({day(10)}, voucher PZ-1, ¥100.00)."
        ]
    }
    # An import: the same invoice of another project, and twice in one file.
    client.force_login(f.other)
    header = HEADER + ",发票号码"
    r = post_import(
        client,
        f.other_project,
        csv_file(
            [
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-2,{E_INVOICE}",
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-3,26442000000999999999",
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-4,26442000000999999999",
            ],
            header=header,
        ),
    )
    assert report_of(r) == (
        3,
        2,
        [
            (2, ["发票号码: This invoice was already claimed in another project on the platform."]),
            (4, ["发票号码: This invoice is also on row 3."]),
        ],
    )


def test_invoice_code_and_number_are_read_from_an_import(client, f):
    client.force_login(f.owner)
    header = HEADER + ",发票代码,发票号码,收款方信用代码"
    r = post_import(
        client,
        f.project,
        csv_file(
            [
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-1,4400231130,01234567,{USCC}",
                f"{day(10)},活动经费,活动经费项目,100,店,物资,PZ-2,,{E_INVOICE},",
            ],
            header=header,
        ),
    )
    assert r.status_code == 302
    assert list(
        Expenditure.objects.order_by("voucher_no").values_list(
            "voucher_no", "invoice_kind", "invoice_code", "invoice_number", "payee_uscc"
        )
    ) == [("PZ-1", "vat", "4400231130", "01234567", USCC), ("PZ-2", "digital", "", E_INVOICE, "")]


# --- Found 9: files finance officers really have ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "sep", "name"),
    [
        ("utf-8-sig", ",", "台账.csv"),
        ("utf-8", ",", "台账.csv"),
        ("gbk", ",", "台账.csv"),
        ("gb18030", ",", "台账.csv"),
        ("utf-16", "\t", "台账.txt"),
        ("utf-16", "\t", "台账.csv"),
    ],
)
def test_found9_csv_encodings_of_excel_are_read(client, f, encoding, sep, name):
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        csv_file(
            [f"{day(10)},活动经费,活动经费项目,120.50,示范市文具店,活动物资,PZ-1"],
            encoding=encoding,
            sep=sep,
            name=name,
        ),
    )
    assert r.status_code == 302
    assert list(Expenditure.objects.values_list("payee", "amount")) == [("示范市文具店", Decimal("120.50"))]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-06", datetime.date(2026, 11, 6)),
        ("2026/11/6", datetime.date(2026, 11, 6)),
        ("2026.11.6", datetime.date(2026, 11, 6)),
        ("2026年11月6日", datetime.date(2026, 11, 6)),
        ("２０２６/１１/６", datetime.date(2026, 11, 6)),
        ("2026-11-06 00:00:00", datetime.date(2026, 11, 6)),
        ("46332", datetime.date(2026, 11, 6)),
        (46332, datetime.date(2026, 11, 6)),
        (46332.0, datetime.date(2026, 11, 6)),
        (datetime.datetime(2026, 11, 6, 0, 0), datetime.date(2026, 11, 6)),
    ],
)
def test_found9_dates_as_people_write_them(written, expected):
    assert expenditure_rules.parse_date(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("12800.50", Decimal("12800.50")),
        ("¥12,800.50", Decimal("12800.50")),
        ("￥12,800.50", Decimal("12800.50")),
        ("12800.5元", Decimal("12800.5")),
        ("１２，８００．５０", Decimal("12800.50")),
        (" ￥ 300 ", Decimal("300")),
        (300, Decimal("300")),
        (120.5, Decimal("120.50")),
    ],
)
def test_found9_amounts_as_people_write_them(written, expected):
    assert expenditure_rules.parse_amount(written) == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1e3", "Write the amount in full, without exponent notation (“1e3”)."),
        ("12,80.5", "“12,80.5” is not an amount in yuan (for example 12800.50)."),
        ("-5", "An amount is more than zero."),
        ("NaN", "“NaN” is not an amount in yuan (for example 12800.50)."),
        (float("inf"), "Enter an amount in yuan, for example 12800.50."),
    ],
)
def test_found9_what_is_not_an_amount_is_named(written, message):
    with pytest.raises(ValidationError) as caught:
        expenditure_rules.parse_amount(written)
    assert caught.value.messages == [message]


def test_found9_xlsx_date_cells_serial_numbers_and_yuan_signs(client, f):
    client.force_login(f.owner)
    serial = (day(11) - datetime.date(1899, 12, 30)).days
    r = post_import(
        client,
        f.project,
        xlsx_file(
            [
                [day(10), "活动经费", "活动经费项目", "￥1,200.50", "店", "物资", "PZ-1"],
                [serial, "活动经费", "活动经费项目", 300, "店", "物资", 1002],
                [day(12).strftime("%Y/%-m/%-d"), "活动经费", "活动经费项目", 45.6, "店", "物资", "PZ-3"],
            ]
        ),
    )
    assert r.status_code == 302
    assert list(Expenditure.objects.order_by("date").values_list("date", "amount", "voucher_no")) == [
        (day(10), Decimal("1200.50"), "PZ-1"),
        (day(11), Decimal("300.00"), "1002"),
        (day(12), Decimal("45.60"), "PZ-3"),
    ]


def test_found9_formula_cells_without_saved_values_are_refused(client, f):
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        xlsx_file(
            [
                [day(10), "活动经费", "活动经费项目", 100, "店", "物资", "PZ-1"],
                [day(10), "活动经费", "活动经费项目", "=D2*2", "店", "物资", "PZ-2"],
            ]
        ),
    )
    assert r.status_code == 400
    assert form_errors(r, "file") == [
        "Cells D3 hold formulas without saved values: save values, not formulas (in "
        "Excel: copy, then Paste Special → Values), and upload again."
    ]


def test_found9_the_report_speaks_the_ui_language_and_names_the_file_columns(client, f, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(f.owner)
    r = post_import(
        client,
        f.project,
        csv_file(
            [f"{day(10)},活动经费,活动经费项目,abc,店,物资,PZ-1"],
            header="Date,Category,Item,Amount,Payee,Description,Voucher",
        ),
    )
    assert report_of(r) == (1, 1, [(2, ["Amount：“abc” 不是以元为单位的金额（例如 12800.50）。"])])
    r = post_import(client, f.project, xlsx_file([[day(10), "活动经费", "活动经费项目", "=1+1", "店", "物资", "P"]]))
    assert form_errors(r, "file") == [
        "单元格 D2 中是公式而没有保存的值：请保存数值而非公式（在 Excel 中复制后“选择性粘贴 → 数值”），再重新上传。"
    ]


# --- Found 10: imports without limits ----------------------------------------------------------------------------


def test_found10_at_most_the_row_limit(client, f, settings):
    settings.LEDGER_IMPORT_MAX_ROWS = 3
    client.force_login(f.owner)
    rows = [f"{day(10)},活动经费,活动经费项目,1,店,物资,PZ-{i}" for i in range(4)]
    r = post_import(client, f.project, csv_file(rows))
    assert form_errors(r, "file") == ["A ledger file holds at most 3 rows; split the file."]
    r = post_import(client, f.project, xlsx_file([row.split(",") for row in rows]))
    assert form_errors(r, "file") == ["A ledger file holds at most 3 rows; split the file."]
    assert post_import(client, f.project, csv_file(rows[:3])).status_code == 302


def test_found10_a_zip_bomb_is_refused_from_its_directory(client, f, settings):
    settings.LEDGER_IMPORT_MAX_UNCOMPRESSED = 5 * 1024 * 1024
    buffer = io.BytesIO()
    good = xlsx_file([[day(10), "活动经费", "活动经费项目", 1, "店", "物资", "PZ-1"]]).read()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info, source.read(info))
        bomb.writestr("xl/media/padding.bin", b"\0" * (6 * 1024 * 1024))
    client.force_login(f.owner)
    r = post_import(client, f.project, SimpleUploadedFile("台账.xlsx", buffer.getvalue()))
    assert form_errors(r, "file") == [
        "The workbook unpacks to 6 MB, more than a ledger of 10000 rows needs; save only the ledger sheet, as values."
    ]


def test_found10_the_report_shows_the_first_200_problems_and_the_count(client, f):
    client.force_login(f.owner)
    r = post_import(
        client, f.project, csv_file([f"{day(10)},活动经费,活动经费项目,abc,店,物资,PZ-{i}" for i in range(500)])
    )
    rows, problems, failed = report_of(r)
    assert (rows, problems, len(failed), sum(len(m) for _n, m in failed)) == (500, 500, 200, 200)
    assert "The first 200 of 500 problems are shown." in r.content.decode()
    assert len(r.content) < 200_000


def test_the_file_reader_keeps_the_headers_of_the_file():
    upload = csv_file(
        [f"{START},活动经费,,1,店,物资,PZ-1"], header=" 日期 ,预算科目,明细项目,金额（元）,收款单位,摘要,凭证号"
    )
    read = ledger_files.read_ledger(upload)
    assert read.headers == {
        "date": "日期",
        "category": "预算科目",
        "item": "明细项目",
        "amount": "金额（元）",
        "payee": "收款单位",
        "description": "摘要",
        "voucher_no": "凭证号",
    }
    assert read.rows == [
        (
            2,
            {
                "date": START.isoformat(),
                "category": "活动经费",
                "amount": "1",
                "payee": "店",
                "description": "物资",
                "voucher_no": "PZ-1",
            },
        )
    ]


def test_an_entry_above_the_threshold_by_the_form_still_needs_its_receipt(f):
    with pytest.raises(ValidationError) as caught:
        spend(f.project, "800.00", receipt=False)
    assert caught.value.message_dict == {"receipt": ["A receipt is required for amounts above ¥500.00."]}
    assert spend(f.project, "800.00", receipt=SimpleUploadedFile("r.pdf", PDF)).receipt
    assert ledger.differences([f.project.pk]) == []


def test_xlsx_reader_keeps_the_files_row_numbers_and_columns_whatever_the_first_used_cell(f):
    """The xlsx reader (python-calamine) numbers rows and columns as the file does: a sheet whose first column is
    empty and with a blank row between entries keeps its row numbers (the row report names them), and number cells
    holding whole numbers read as whole numbers (voucher 1002, not 1002.0)."""
    book = Workbook()
    sheet = book.active
    for column, header in enumerate(HEADER.split(","), start=2):  # column A left empty
        sheet.cell(row=1, column=column, value=header)
    for column, value in enumerate([day(10), "活动经费", "活动经费项目", 12.5, "店", "物资", 1002], start=2):
        sheet.cell(row=2, column=column, value=value)
    for column, value in enumerate([day(11), "活动经费", "活动经费项目", 300, "店", "物资", "PZ-4"], start=2):
        sheet.cell(row=4, column=column, value=value)  # row 3 blank
    buffer = io.BytesIO()
    book.save(buffer)
    read = ledger_files.read_ledger(SimpleUploadedFile("台账.xlsx", buffer.getvalue()))
    assert read.headers["voucher_no"] == "凭证号"
    assert [(n, values["amount"], values["voucher_no"]) for n, values in read.rows] == [
        (2, 12.5, 1002),
        (4, 300, "PZ-4"),
    ]
    assert isinstance(read.rows[0][1]["voucher_no"], int)


def test_xlsx_with_a_damaged_sheet_is_refused_as_not_a_workbook(f):
    buffer = io.BytesIO()
    book = Workbook()
    book.active.append(HEADER.split(","))
    book.save(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # cut in the middle of the XML
            target.writestr(item, data)
    with pytest.raises(ValidationError) as refused:
        ledger_files.read_ledger(SimpleUploadedFile("台账.xlsx", damaged.getvalue()))
    assert refused.value.messages == ["The file is not a valid .xlsx workbook."]
