"""The monthly summary as CSV and XLSX, with Chinese column headings."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

NUMBER_COLUMNS = [
    ("workdays", "应出勤天数"),
    ("on_time_days", "正常出勤天数"),
    ("late", "迟到次数"),
    ("late_min", "迟到分钟"),
    ("early_leave", "早退次数"),
    ("early_leave_min", "早退分钟"),
    ("missed_punch", "缺卡次数"),
    ("absent_days", "旷工天数"),
    ("leave_hours", "请假小时"),
]
OFFICER_COLUMNS = [("department", "部门"), ("staff_no", "工号"), ("name", "姓名"), *NUMBER_COLUMNS]
DEPARTMENT_COLUMNS = [("department", "部门代码"), ("name", "部门"), ("officers", "人数"), *NUMBER_COLUMNS]


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> list[list[Any]]:
    return [[title for _, title in columns]] + [[row[key] for key, _ in columns] for row in rows]


def summary_csv(month: str, summary: dict[str, list[dict[str, Any]]]) -> bytes:
    """Officers, then departments, in one CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{month} 考勤月报（个人）"])
    writer.writerows(_table(summary["officers"], OFFICER_COLUMNS))
    writer.writerow([])
    writer.writerow([f"{month} 考勤月报（部门）"])
    writer.writerows(_table(summary["departments"], DEPARTMENT_COLUMNS))
    return out.getvalue().encode("utf-8-sig")


def summary_xlsx(month: str, summary: dict[str, list[dict[str, Any]]]) -> bytes:
    """A workbook with one sheet per officer and one per department."""
    book = Workbook()
    sheets = [
        ("个人", summary["officers"], OFFICER_COLUMNS),
        ("部门", summary["departments"], DEPARTMENT_COLUMNS),
    ]
    for index, (title, rows, columns) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        if sheet is None:
            sheet = book.create_sheet()
        sheet.title = f"{month} {title}"
        for line in _table(rows, columns):
            sheet.append(line)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
