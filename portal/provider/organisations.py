"""Provider pages: create, see and edit an organisation; ask to join one; members, invitations, join requests.

Every organisation is reached through portal.data.access (``organisation_for``): another organisation's
pages, members and requests answer 404. Owner-only pages pass ``owner=True``.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from portal.data import organisation_members as members
from portal.data import organisations
from portal.data.access import membership, organisation_for
from portal.extensions import db
from portal.models import MembershipRole, User
from portal.provider import bp
from portal.provider.organisation_forms import (
    ConfirmForm,
    FindOrganisationForm,
    InviteForm,
    JoinDecisionForm,
    JoinRequestForm,
    MemberRoleForm,
    OrganisationForm,
)
from portal.security import public, signed_in


def _me() -> User:
    return current_user._get_current_object()


@bp.errorhandler(organisations.OrganisationNotFound)
def organisation_not_found(error):
    return render_template("errors/404.html", error=NotFound()), 404


# --- Creating, seeing and editing an organisation ----------------------------------------------------------


@bp.route("/organisations/new", methods=["GET", "POST"])
def create_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = organisations.create_organisation(actor=_me(), details=form.details())
        db.session.commit()
        flash(_("%(organisation)s has been sent to the council for checking. We will email you when it is "
                "approved.", organisation=organisation.name), "success")
        return redirect(url_for("provider.organisation", organisation_id=organisation.id))
    return render_template("provider/organisation_form.html", form=form, organisation=None)


@bp.get("/organisations/<uuid:organisation_id>")
def organisation(organisation_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id)
    is_owner = membership(_me(), organisation_id).role is MembershipRole.OWNER
    return render_template(
        "provider/organisation.html",
        organisation=found,
        is_owner=is_owner,
        needs=organisations.what_the_council_needs(found),
        join_requests=members.pending_join_requests(found) if is_owner else [],
        decision_form=JoinDecisionForm(),
        labels=_labels(),
    )


@bp.route("/organisations/<uuid:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    form = OrganisationForm() if request.method == "POST" else OrganisationForm.for_organisation(found)
    form.submit.label.text = _("Save changes")
    if form.validate_on_submit():
        changed = organisations.update_organisation(actor=_me(), organisation=found, details=form.details())
        db.session.commit()
        if changed:
            flash(_("Your changes have been saved."), "success")
        return redirect(url_for("provider.organisation", organisation_id=found.id))
    return render_template("provider/organisation_form.html", form=form, organisation=found)


def _labels() -> dict:
    return {"kinds": organisations.KIND_LABELS, "regulators": organisations.REGULATOR_LABELS,
            "ratings": organisations.RATING_LABELS}


# --- Asking to join an organisation ------------------------------------------------------------------------


@bp.get("/organisations/find")
def find_organisation():
    form = FindOrganisationForm(request.args)
    searched = "q" in request.args
    results = organisations.search_approved_organisations(query=form.q.data) if searched and form.validate() else []
    mine = {m.organisation_id for m in organisations.memberships_of(_me())}
    return render_template("provider/organisation_find.html", form=form, searched=searched, results=results,
                           mine=mine)


@bp.route("/organisations/<uuid:organisation_id>/join", methods=["GET", "POST"])
def join_organisation(organisation_id: uuid.UUID):
    found = organisations.approved_organisation(organisation_id)
    form = JoinRequestForm()
    if form.validate_on_submit():
        try:
            members.request_to_join(actor=_me(), organisation=found, message=form.message.data)
        except organisations.AlreadyMember:
            flash(_("You already belong to %(organisation)s.", organisation=found.name), "info")
            return redirect(url_for("provider.organisation", organisation_id=found.id))
        except organisations.DuplicateJoinRequest:
            flash(_("You have already asked to join %(organisation)s. Its owners will answer your request.",
                    organisation=found.name), "info")
            return redirect(url_for("provider.dashboard"))
        db.session.commit()
        flash(_("Your request has been sent to the owners of %(organisation)s. We will email you their answer.",
                organisation=found.name), "success")
        return redirect(url_for("provider.dashboard"))
    return render_template("provider/organisation_join.html", form=form, organisation=found)


@bp.post("/organisations/<uuid:organisation_id>/join-requests/<uuid:request_id>")
def decide_join_request(organisation_id: uuid.UUID, request_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    form = JoinDecisionForm()
    if form.validate_on_submit():
        try:
            decided = members.decide_join_request(actor=_me(), organisation=found, request_id=request_id,
                                                  approve=bool(form.approve.data))
        except organisations.InvalidTransition:
            flash(_("That request has already been answered."), "info")
        else:
            db.session.commit()
            message = (_("%(name)s has joined as an editor.", name=decided.user.name) if form.approve.data
                       else _("You turned down %(name)s's request.", name=decided.user.name))
            flash(message, "success")
    return redirect(url_for("provider.organisation", organisation_id=found.id))


# --- Members and invitations (owners) ----------------------------------------------------------------------


@bp.get("/organisations/<uuid:organisation_id>/members")
def organisation_members(organisation_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    return render_template(
        "provider/organisation_members.html",
        organisation=found,
        memberships=members.members_of(found),
        invitations=members.open_invitations(found),
        revoke_form=ConfirmForm(),
        me=_me(),
    )


@bp.route("/organisations/<uuid:organisation_id>/members/invite", methods=["GET", "POST"])
def invite_member(organisation_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            members.invite(actor=_me(), organisation=found, email=form.email.data,
                           role=MembershipRole(form.role.data))
        except organisations.AlreadyMember:
            form.email.errors.append(_("This person is already a member of %(organisation)s",
                                       organisation=found.name))
        except organisations.DuplicateInvitation:
            form.email.errors.append(_("An invitation has already been sent to this email address. "
                                       "Cancel it to send a new one"))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s. The link works for 7 days.", email=form.email.data), "success")
            return redirect(url_for("provider.organisation_members", organisation_id=found.id))
    return render_template("provider/organisation_invite.html", form=form, organisation=found)


@bp.post("/organisations/<uuid:organisation_id>/invitations/<uuid:invitation_id>/revoke")
def revoke_invitation(organisation_id: uuid.UUID, invitation_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    if ConfirmForm().validate_on_submit():
        try:
            revoked = members.revoke_invitation(actor=_me(), organisation=found, invitation_id=invitation_id)
        except organisations.InvalidTransition:
            flash(_("That invitation has already been used or cancelled."), "info")
        else:
            db.session.commit()
            flash(_("The invitation to %(email)s has been cancelled.", email=revoked.email), "success")
    return redirect(url_for("provider.organisation_members", organisation_id=found.id))


@bp.route("/organisations/<uuid:organisation_id>/members/<uuid:membership_id>/role", methods=["GET", "POST"])
def change_member_role(organisation_id: uuid.UUID, membership_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    chosen = members.member(found, membership_id)
    form = MemberRoleForm(data={"role": chosen.role.value} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            members.change_member_role(actor=_me(), organisation=found, membership_id=chosen.id,
                                       role=MembershipRole(form.role.data))
        except organisations.LastOwner:
            form.role.errors.append(_("An organisation must have at least one owner. Make someone else an owner "
                                      "first"))
        else:
            db.session.commit()
            flash(_("%(name)s's role has been changed.", name=chosen.user.name), "success")
            return redirect(url_for("provider.organisation_members", organisation_id=found.id))
    return render_template("provider/organisation_member_role.html", form=form, organisation=found,
                           chosen=chosen)


@bp.route("/organisations/<uuid:organisation_id>/members/<uuid:membership_id>/remove", methods=["GET", "POST"])
def remove_member(organisation_id: uuid.UUID, membership_id: uuid.UUID):
    found = organisation_for(_me(), organisation_id, owner=True)
    chosen = members.member(found, membership_id)
    form = ConfirmForm()
    last_owner = False
    if form.validate_on_submit():
        removing_myself = chosen.user_id == _me().id
        name = chosen.user.name
        try:
            members.remove_member(actor=_me(), organisation=found, membership_id=chosen.id)
        except organisations.LastOwner:
            last_owner = True
        else:
            db.session.commit()
            flash(_("%(name)s has been removed from %(organisation)s.", name=name, organisation=found.name),
                  "success")
            if removing_myself:
                return redirect(url_for("provider.dashboard"))
            return redirect(url_for("provider.organisation_members", organisation_id=found.id))
    return render_template("provider/organisation_member_remove.html", form=form, organisation=found,
                           chosen=chosen, last_owner=last_owner), (400 if last_owner else 200)


# --- Accepting an emailed invitation ------------------------------------------------------------------------


@bp.get("/invitations/<token>")
@public  # the emailed link: someone without an account yet is told how to sign up, then come back
def invitation(token: str):
    try:
        found = members.invitation_by_token(token)
    except organisations.InvitationNotUsable as problem:
        return render_template("provider/invitation_unusable.html", reason=problem.reason), 404
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return render_template("provider/invitation.html", invitation=found, token=token, user=user,
                           form=ConfirmForm())


@bp.post("/invitations/<token>/accept")
@signed_in  # not only provider users: accepting an owner's invitation is what makes someone a provider user
def accept_invitation(token: str):
    try:
        found = members.invitation_by_token(token)
    except organisations.InvitationNotUsable as problem:
        return render_template("provider/invitation_unusable.html", reason=problem.reason), 404
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("provider.invitation", token=token))
    try:
        joined = members.accept_invitation(actor=_me(), invitation=found)
    except organisations.WrongInvitee:
        return render_template("provider/invitation.html", invitation=found, token=token, user=_me(),
                               form=ConfirmForm()), 403
    except organisations.AlreadyMember:
        return redirect(url_for("provider.organisation", organisation_id=found.organisation_id))
    db.session.commit()
    flash(_("You have joined %(organisation)s.", organisation=found.organisation.name), "success")
    return redirect(url_for("provider.organisation", organisation_id=joined.organisation_id))
