"""Reads an XLSX and a CSV export of the same operations with readers that
are not ours (openpyxl from Debian, Python's csv module) and checks that
they hold the same values: every id, amount, currency and time.

Usage: check_exports.py operations.xlsx operations.csv
"""
import csv
import datetime
import sys
from decimal import Decimal

import openpyxl


def main(xlsx_path, csv_path):
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wb = openpyxl.load_workbook(xlsx_path, read_only=True)
    ws = wb["Operations"]
    it = ws.iter_rows(values_only=True)
    header = list(next(it))
    assert header == list(rows[0].keys()), f"headers differ: {header} / {list(rows[0].keys())}"
    n = 0
    for n, (cells, row) in enumerate(zip(it, rows), start=1):
        x = dict(zip(header, cells))
        where = f"row {n + 1} (operation {row['operation_id']})"
        assert str(x["operation_id"]) == row["operation_id"], f"{where}: id {x['operation_id']!r}"
        assert str(x["project_id"]) == row["project_id"], f"{where}: project {x['project_id']!r}"
        for col in ("amount", "converted_amount"):
            want = Decimal(row[col]) if row[col] else None
            got = x[col]
            assert isinstance(got, (int, float)) or (got is None and want is None), f"{where}: {col} is {type(got)} {got!r}, not a number"
            if want is not None:
                assert Decimal(repr(got)) == want, f"{where}: {col} {got!r} != {want}"
        for col in ("created_at", "completed_at"):
            if row[col]:
                assert isinstance(x[col], datetime.datetime), f"{where}: {col} is not a date cell: {x[col]!r}"
                assert x[col].strftime("%Y-%m-%d %H:%M:%S") == row[col], f"{where}: {col} {x[col]} != {row[col]}"
        for col in ("payment_id", "currency", "operation_status", "account_number"):
            assert (x[col] or "") == row[col].lstrip("'"), f"{where}: {col} {x[col]!r} != {row[col]!r}"
    assert n == len(rows) and n > 0, f"{n} XLSX rows, {len(rows)} CSV rows"
    print(f"check_exports: {n} operations agree between {xlsx_path} (openpyxl) and {csv_path} (csv)")


if __name__ == "__main__":
    main(*sys.argv[1:])
