"""The holder's statement: one 4-week period at a time, on the page and as CSV and PDF downloads.

GET /direct-payment/statement?period=N (default: the current period; ``account`` picks which account a nominated
person acting for several means). The downloads carry the same figures, headed in the reader's language.
"""

from __future__ import annotations

import uuid

from flask import Response, abort, render_template, request
from flask_login import current_user

from portal.data import documents, statements
from portal.data.dp_access import acts_as_nominee
from portal.holder import bp
from portal.i18n import current_language


def _statement() -> statements.Statement:
    try:
        account_id = uuid.UUID(request.args["account"]) if request.args.get("account") else None
    except ValueError:
        abort(404)
    period_number = request.args.get("period", type=int)
    if "period" in request.args and period_number is None:
        abort(404)
    try:
        return statements.statement_for(user=current_user, dp_account_id=account_id, period_number=period_number)
    except statements.NoSuchPeriod:
        abort(404)


def _download_name(statement: statements.Statement, extension: str) -> str:
    return f"statement-{statement.dp_account.reference}-period-{statement.period.number + 1}.{extension}"


def _link_arguments(statement: statements.Statement) -> dict:
    arguments = {"period": statement.period.number}
    if request.args.get("account"):
        arguments["account"] = str(statement.dp_account.id)
    return arguments


@bp.get("/statement")
def statement():
    found = _statement()
    return render_template(
        "holder/statement.html",
        statement=found,
        summary=documents.statement_summary(found),
        title=documents.statement_title(found),
        nominee=acts_as_nominee(current_user, found.dp_account),
        link_arguments=_link_arguments(found),
        language=current_language(),
    )


@bp.get("/statement.csv")
def statement_csv():
    found = _statement()
    return Response(
        documents.statement_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(found, "csv")}"',
                 "Cache-Control": "no-store"},
    )


@bp.get("/statement.pdf")
def statement_pdf():
    found = _statement()
    return Response(
        documents.statement_pdf(found),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(found, "pdf")}"',
                 "Cache-Control": "no-store"},
    )
