"""The holder's basket at /direct-payment/basket: add an offer (a question page), change, remove, see the total.

Offers reach the basket from the public service page (templates/holder/_add_to_basket.html links here). Domain
rules live in portal/marketplace/basket.py; the account comes from dp_account_for (anything else is 404)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.data.dp_access import dp_account_for
from portal.data.offers import purchasable_offer
from portal.extensions import db
from portal.holder import bp
from portal.ledger import dp_balances
from portal.marketplace import basket
from portal.provider.organisation_forms import GovDateField


class BasketItemForm(FlaskForm):
    units = IntegerField(
        _l("How many do you want?"),
        widget=GovTextInput(),
        validators=[InputRequired(message=_l("Enter how many you want")),
                    NumberRange(min=1, message=_l("How many you want must be 1 or more"))],
    )
    wanted_on = GovDateField(
        _l("When would you like it? (optional)"),
        description=_l("For example, 27 3 2027. The provider will confirm the date with you."),
        validators=[Optional()],
        invalid_message=_l("The date you would like it must be a real date"),
    )
    note = TextAreaField(
        _l("Anything the provider should know? (optional)"),
        widget=GovTextArea(),
        description=_l("For example, times that suit you. Do not include medical details."),
        validators=[Length(max=basket.NOTE_MAX, message=_l("Your note must be 1000 characters or fewer"))],
    )
    submit = SubmitField(_l("Save and continue"), widget=GovSubmitInput())


class RemoveForm(FlaskForm):
    pass


def _account():
    return dp_account_for(current_user)


@bp.app_template_global()
def offer_purchase_choice(offer) -> str:
    """For templates/holder/_add_to_basket.html on the public service page: "buy", or why not."""
    return basket.purchase_choice(current_user, offer)


@bp.get("/basket")
def basket_page():
    account = _account()
    return render_template("holder/basket.html", account=account, summary=basket.summary(account),
                           balances=dp_balances(account), remove_form=RemoveForm())


@bp.route("/basket/add/<uuid:offer_id>", methods=["GET", "POST"])
def add_to_basket(offer_id: uuid.UUID):
    account = _account()
    offer = purchasable_offer(offer_id)
    if offer is None:
        abort(404)
    form = BasketItemForm(data={"units": offer.min_units} if offer.min_units == offer.max_units else None)
    if form.validate_on_submit():
        try:
            basket.add(actor=current_user, dp_account=account, offer_id=offer.id, units=form.units.data,
                       wanted_on=form.wanted_on.data, note=form.note.data or "")
        except basket.UnitsOutOfRange as error:
            form.units.errors.append(_units_message(error))
        else:
            db.session.commit()
            flash(_("%(title)s is in your basket", title=offer.title), "success")
            return redirect(url_for("holder.basket_page"))
    return render_template("holder/basket_item.html", form=form, offer=offer, account=account,
                           action=url_for("holder.add_to_basket", offer_id=offer.id))


@bp.route("/basket/<uuid:item_id>/change", methods=["GET", "POST"])
def change_basket_item(item_id: uuid.UUID):
    account = _account()
    item = basket.item_for(account, item_id)
    form = BasketItemForm(obj=item)
    if form.validate_on_submit():
        try:
            basket.change(actor=current_user, item=item, units=form.units.data, wanted_on=form.wanted_on.data,
                          note=form.note.data or "")
        except basket.UnitsOutOfRange as error:
            form.units.errors.append(_units_message(error))
        else:
            db.session.commit()
            return redirect(url_for("holder.basket_page"))
    return render_template("holder/basket_item.html", form=form, offer=item.offer, account=account,
                           action=url_for("holder.change_basket_item", item_id=item.id))


@bp.post("/basket/<uuid:item_id>/remove")
def remove_basket_item(item_id: uuid.UUID):
    account = _account()
    item = basket.item_for(account, item_id)
    if RemoveForm().validate_on_submit():
        title = item.offer.title
        basket.remove(actor=current_user, item=item)
        db.session.commit()
        flash(_("%(title)s was removed from your basket", title=title), "success")
    return redirect(url_for("holder.basket_page"))


def _units_message(error: basket.UnitsOutOfRange) -> str:
    return _("How many you want must be between %(smallest)d and %(largest)d", smallest=error.minimum,
             largest=error.maximum)
