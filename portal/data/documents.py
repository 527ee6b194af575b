"""Downloads made from ledger figures: spreadsheet-safe CSV, and the holder's statement as CSV and PDF.

CSV cells that a spreadsheet would run as a formula (starting =, +, -, @, or a tab or carriage return) are
prefixed with an apostrophe (OWASP's advice against CSV injection), so a provider's name or an officer's note can
never run on a finance officer's computer. Amounts are written as positive pounds with two decimals in separate
"in" and "out" columns, so no honest figure needs the prefix.

The PDF is made with fpdf2 in a Unicode font (Liberation Sans, installed with Chromium, or DejaVu Sans), so Welsh
letters such as w-circumflex print; without either it falls back to Helvetica and plain letters.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from portal.data.statements import Statement
from portal.i18n import current_language, money

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV text (the csv module quotes what needs quoting), every cell spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def pounds(pence: int) -> str:
    """Pence as pounds with two decimals and no symbol, for spreadsheets: 1250 -> 12.50."""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def statement_title(statement: Statement) -> str:
    return _("Statement for %(reference)s, period %(number)s: %(start)s to %(end)s",
             reference=statement.dp_account.reference, number=statement.period.number + 1,
             start=format_date(statement.period.starts_on, "long"), end=format_date(statement.period.ends_on, "long"))


def statement_summary(statement: Statement) -> list[tuple[str, int]]:
    """The summary lines shared by the page, the CSV and the PDF: (label, pence)."""
    rows = [
        (_("Opening balance"), statement.opening),
        (_("Budget from the council"), statement.allocations),
        (_("Extra money from the council"), statement.top_ups),
        (_("Your contributions"), statement.contributions),
        (_("Total money in"), statement.money_in),
        (_("Spent"), statement.spent),
        (_("Returned to the council"), statement.reclaimed),
    ]
    if statement.corrections:
        rows.append((_("Corrections"), statement.corrections))
    rows += [
        (_("Closing balance"), statement.closing),
        (_("Held for orders not yet paid"), statement.held_at_close),
        (_("Available to spend"), statement.available_at_close),
    ]
    return rows


def statement_csv(statement: Statement) -> str:
    language = current_language()
    rows: list[list[object]] = [[statement_title(statement)], [], [_("Summary"), _("Amount (£)")]]
    rows += [[label, pounds(pence)] for label, pence in statement_summary(statement)]
    rows += [[], [_("Spent by category"), _("Amount (£)")]]
    rows += [[spend.localised(language), pounds(spend.pence)] for spend in statement.by_category]
    rows += [[], [_("Spent by provider"), _("Amount (£)")]]
    rows += [[spend.localised(language), pounds(spend.pence)] for spend in statement.by_provider]
    rows += [[], [_("Date"), _("Details"), _("Money in (£)"), _("Money out (£)"), _("Held for orders (£)"),
                  _("Ledger reference")]]
    rows += [
        [format_date(line.occurred_at, "yyyy-MM-dd"), line.description, pounds(line.money_in) if line.money_in else "",
         pounds(line.money_out) if line.money_out else "", pounds(line.held_change) if line.held_change else "",
         line.key]
        for line in statement.lines
    ]
    return csv_text(rows)


def _font_paths() -> tuple[str, str] | None:
    configured = current_app.config.get("STATEMENT_PDF_FONTS")
    for regular, bold in ([tuple(configured)] if configured else []) + list(FONT_CANDIDATES):
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


def _latin1(text: str) -> str:
    """Without a Unicode font, Helvetica prints Latin-1 only: w-circumflex becomes w, and so on."""
    return unicodedata.normalize("NFKD", text).encode("latin-1", "ignore").decode("latin-1") if text else text


def _line_amounts(line) -> str:
    amounts = []
    if line.money_in:
        amounts.append(_("in %(amount)s", amount=money(line.money_in)))
    if line.money_out:
        amounts.append(_("out %(amount)s", amount=money(line.money_out)))
    if line.held_change:
        amounts.append(_("held %(amount)s", amount=money(line.held_change)))
    return ", ".join(amounts)


def statement_pdf(statement: Statement) -> bytes:
    from fpdf import FPDF  # imported here: only the download needs it

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    fonts = _font_paths()
    clean = (lambda text: text) if fonts else _latin1
    if fonts:
        pdf.add_font("Body", fname=fonts[0])
        pdf.add_font("Body", style="B", fname=fonts[1])
        family = "Body"
    else:
        family = "Helvetica"
    language = current_language()
    pdf.set_lang("cy" if language == "cy" else "en-GB")
    pdf.set_title(clean(statement_title(statement)))
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(width, 8, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def row(label: str, value: str, bold: bool = False) -> None:
        pdf.set_font(family, "B" if bold else "", 10)
        pdf.multi_cell(width * 0.7, 6, clean(label), new_x="RIGHT", new_y="TOP")
        pdf.multi_cell(width * 0.3, 6, clean(value), align="R", new_x="LMARGIN", new_y="NEXT")

    heading(current_app.config["COUNCIL_NAME_CY" if language == "cy" else "COUNCIL_NAME"], 11)
    heading(statement_title(statement), 15)
    for label, pence in statement_summary(statement):
        row(label, money(pence), bold=label in (_("Opening balance"), _("Closing balance")))
    for title, spends in ((_("Spent by category"), statement.by_category),
                          (_("Spent by provider"), statement.by_provider)):
        pdf.ln(4)
        heading(title)
        if not spends:
            row(_("Nothing spent in this period"), "")
        for spend in spends:
            row(spend.localised(language), money(spend.pence))
    pdf.ln(4)
    heading(_("What happened"))
    if not statement.lines:
        row(_("Nothing happened in this period"), "")
    for line in statement.lines:
        row(f"{format_date(line.occurred_at, 'd MMM yyyy')}  {line.description}  [{line.key}]", _line_amounts(line))
    return bytes(pdf.output())
