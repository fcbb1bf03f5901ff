"""Tables shown on the pages, and the same tables exported as CSV or XLSX (``?format=csv|xlsx``)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi import Response
from openpyxl import Workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormat(StrEnum):
    """Download formats of a page's tables."""

    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Link:
    """A cell that links to another page; exports keep only the text."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """A titled table: (key, heading) columns and rows of cells keyed by column."""

    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    empty: str = "暂无数据"

    def cells(self, row: dict[str, Any]) -> list[Any]:
        """The row's cells in column order ("" for a missing one)."""
        return [row.get(key, "") for key, _ in self.columns]

    def plain(self) -> list[list[Any]]:
        """Heading row and data rows with plain values, as the exports write them."""
        out: list[list[Any]] = [[title for _, title in self.columns]]
        for row in self.rows:
            out.append([_plain(c) for c in self.cells(row)])
        return out


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    return str(value)


def to_csv(tables: list[Table]) -> bytes:
    """All tables one after another, each under its title (UTF-8 with BOM for spreadsheet programs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerows(table.plain())
    return out.getvalue().encode("utf-8-sig")


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel sheet names: at most 31 characters, none of []:*?/\ and unique in the workbook.
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:28] or "表"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}-{n}", n + 1
    used.add(name)
    return name


def to_xlsx(tables: list[Table]) -> bytes:
    """A workbook with one sheet per table."""
    book = Workbook()
    used: set[str] = set()
    for index, table in enumerate(tables):
        sheet = book.active if index == 0 and book.active is not None else book.create_sheet()
        sheet.title = _sheet_title(table.title, used)
        for line in table.plain():
            sheet.append(line)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(tables: list[Table], fmt: ExportFormat, name: str) -> Response:
    """The download of a page's tables."""
    if fmt is ExportFormat.CSV:
        body, media = to_csv(tables), "text/csv; charset=utf-8"
    else:
        body, media = to_xlsx(tables), XLSX_TYPE
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "export"
    disposition = (
        f"attachment; filename=\"{ascii_name}.{fmt.value}\"; filename*=UTF-8''{quote(name)}.{fmt.value}"
    )
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})
