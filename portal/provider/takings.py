"""The provider's takings: orders by state, money captured per month, what the council owes them and has paid.

GET /provider/organisations/<id>/takings, for members of the organisation (anyone else: 404)."""

from __future__ import annotations

import uuid

from flask import render_template
from flask_login import current_user

from portal.data import payables
from portal.marketplace.orders import STATE_LABELS
from portal.provider import bp


@bp.get("/organisations/<uuid:organisation_id>/takings")
def takings(organisation_id: uuid.UUID):
    return render_template(
        "provider/takings.html",
        takings=payables.takings_for(user=current_user, organisation_id=organisation_id),
        labels=STATE_LABELS,
    )
