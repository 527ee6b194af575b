"""Provider pages: the dashboard, where a provider user starts (their organisations, invitations, requests)."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask_babel import _
from flask_login import current_user

from portal.data import organisation_members as members
from portal.data import organisations
from portal.extensions import db
from portal.provider import bp
from portal.provider.organisation_forms import ConfirmForm


@bp.app_template_global()
def verification_tag(status) -> dict:
    """govukTag parameters for an organisation's verification state (provider and council pages)."""
    text, classes = organisations.VERIFICATION_LABELS[status]
    return {"text": text, "classes": classes}


@bp.get("")
def dashboard():
    user = current_user._get_current_object()
    memberships = organisations.memberships_of(user)
    return render_template(
        "provider/dashboard.html",
        memberships=memberships,
        needs={m.organisation_id: organisations.what_the_council_needs(m.organisation) for m in memberships},
        invitations=members.invitations_for(user),
        join_requests=members.join_requests_of(user),
        accept_form=ConfirmForm(),
    )


@bp.post("/invitations/<uuid:invitation_id>/accept")
def accept_my_invitation(invitation_id: uuid.UUID):
    """Accept an invitation listed on the dashboard: it was sent to this user's confirmed email address."""
    user = current_user._get_current_object()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("provider.dashboard"))
    try:
        invitation = members.invitation_for(user, invitation_id)
        membership = members.accept_invitation(actor=user, invitation=invitation)
    except organisations.InvitationNotUsable:
        flash(_("That invitation can no longer be accepted. Ask the organisation for a new one."), "error")
        return redirect(url_for("provider.dashboard"))
    except (organisations.AlreadyMember, organisations.WrongInvitee):
        return redirect(url_for("provider.dashboard"))
    db.session.commit()
    flash(_("You have joined %(organisation)s.", organisation=membership.organisation.name), "success")
    return redirect(url_for("provider.organisation", organisation_id=membership.organisation_id))
