"""Provider pages: a listing's priced offers (what direct-payment holders can buy), and publishing them.

Any member of the listing's organisation may write, publish and withdraw its offers. Listings are reached through
``access.service_for`` and offers through their listing (``offers.offer_for``): another organisation's ids answer
404 (the blueprint turns NotPermitted into "not found").
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user

from portal.data import offers as offer_data
from portal.data.access import membership, service_for
from portal.extensions import db
from portal.models import MembershipRole, Offer
from portal.provider import bp
from portal.provider.offer_forms import OfferActionForm, OfferForm
from portal.public import presenters


@bp.app_template_global()
def offer_status_tag(status) -> dict:
    """govukTag parameters for an offer's state."""
    text, classes = offer_data.STATUS_LABELS[status]
    return {"text": text, "classes": classes}


def _back_to_offers(offer: Offer):
    return redirect(url_for("provider.offers", service_id=offer.service_id))


@bp.get("/listings/<uuid:service_id>/offers")
def offers(service_id: uuid.UUID):
    service = service_for(current_user, service_id)
    role = membership(current_user, service.organisation_id).role
    return render_template(
        "provider/offers.html",
        service=service,
        listed=offer_data.offers_of(service),
        blocks=offer_data.listing_blocks(service),
        block_labels=offer_data.PUBLISH_BLOCKS,
        is_owner=role is MembershipRole.OWNER,
        has_categories=bool(service.taxonomy_terms),
        form=OfferActionForm(),
        paragraphs=presenters.paragraphs,
    )


@bp.route("/listings/<uuid:service_id>/offers/new", methods=["GET", "POST"])
def new_offer(service_id: uuid.UUID):
    service = service_for(current_user, service_id)
    if not service.taxonomy_terms:
        return redirect(url_for("provider.offers", service_id=service.id))
    form = OfferForm(service=service)
    if form.validate_on_submit():
        offer = offer_data.create_offer(actor=current_user, service=service, details=form.details())
        db.session.commit()
        flash(_("‘%(title)s’ has been saved as a draft. Publish it when you are ready to sell it.",
                title=offer.title), "success")
        return redirect(url_for("provider.offers", service_id=service.id))
    return render_template("provider/offer_form.html", form=form, service=service, offer=None)


@bp.route("/offers/<uuid:offer_id>/edit", methods=["GET", "POST"])
def edit_offer(offer_id: uuid.UUID):
    offer = offer_data.offer_for(current_user, offer_id)
    form = OfferForm(service=offer.service) if request.method == "POST" else OfferForm.for_offer(offer)
    form.submit.label.text = _("Save changes")
    if form.validate_on_submit():
        changed = offer_data.update_offer(actor=current_user, offer=offer, details=form.details())
        db.session.commit()
        if changed:
            flash(_("Your changes to ‘%(title)s’ have been saved.", title=offer.title), "success")
        return _back_to_offers(offer)
    return render_template("provider/offer_form.html", form=form, service=offer.service, offer=offer)


@bp.post("/offers/<uuid:offer_id>/publish")
def publish_offer(offer_id: uuid.UUID):
    offer = offer_data.offer_for(current_user, offer_id)
    if not OfferActionForm().validate_on_submit():
        abort(400)
    try:
        offer_data.publish_offer(actor=current_user, offer=offer)
    except offer_data.NotReadyToPublish as refused:
        flash(_("‘%(title)s’ cannot be published yet.", title=offer.title) + " "
              + " ".join(str(offer_data.PUBLISH_BLOCKS[reason]) for reason in refused.reasons), "error")
        return _back_to_offers(offer)
    except offer_data.InvalidTransition:
        return _back_to_offers(offer)
    db.session.commit()
    flash(_("‘%(title)s’ is published. People with a direct payment can now buy it.", title=offer.title),
          "success")
    return _back_to_offers(offer)


@bp.post("/offers/<uuid:offer_id>/withdraw")
def withdraw_offer(offer_id: uuid.UUID):
    offer = offer_data.offer_for(current_user, offer_id)
    if not OfferActionForm().validate_on_submit():
        abort(400)
    try:
        offer_data.withdraw_offer(actor=current_user, offer=offer)
    except offer_data.InvalidTransition:
        return _back_to_offers(offer)
    db.session.commit()
    flash(_("‘%(title)s’ has been withdrawn. Orders already placed carry on.", title=offer.title), "success")
    return _back_to_offers(offer)

