"""Council pages: the audit trail, filterable by organisation, user, action and dates (a bookmarkable GET form)."""

from __future__ import annotations

import uuid

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from portal.council import bp
from portal.council.moderation_forms import AuditFilterForm
from portal.data import audit_view
from portal.models import Role
from portal.public.presenters import pagination
from portal.security import roles_required

AUDIT_PER_PAGE = 25


def _filters(form: AuditFilterForm) -> audit_view.AuditFilters:
    try:
        organisation_id = uuid.UUID(form.organisation.data) if form.organisation.data else None
    except ValueError:
        organisation_id = uuid.UUID(int=0)  # an unknown organisation matches nothing, rather than everything
    return audit_view.AuditFilters(
        organisation_id=organisation_id,
        user_email=form.user.data or "",
        action=form.action.data or "",
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


def _page_href(number: int) -> str:
    arguments = {key: value for key, value in request.args.items() if key != "page" and value}
    return url_for("council.audit", **arguments, page=number)


@bp.get("/audit")
@roles_required(Role.COUNCIL_ADMIN, Role.COUNCIL_MODERATOR)
def audit():
    form = AuditFilterForm(request.args)
    form.organisation.choices = [("", _("All organisations")), *audit_view.organisation_choices()]
    form.action.choices = [("", _("All actions")), *((name, name) for name in audit_view.action_choices())]
    page_number = request.args.get("page", 1, type=int) or 1
    events = None
    if form.validate():
        events = audit_view.audit_events(filters=_filters(form), page=max(page_number, 1), per_page=AUDIT_PER_PAGE)
        if events.page > events.pages:
            abort(404)
    pages = pagination(events.page, events.pages, _page_href) if events else None
    return render_template("council/audit.html", form=form, events=events, pagination=pages)
