"""Recording spending exceptions: things the council's direct-payments team should look at."""

from __future__ import annotations

from portal.data.audit import _plain
from portal.extensions import db
from portal.models import ExceptionKind, SpendingException


def record_exception(
    kind: ExceptionKind,
    *,
    dp_account=None,
    order=None,
    actor=None,
    details: dict | None = None,
) -> SpendingException:
    """Add a SpendingException to the session; the caller commits it (also when it then refuses the request)."""
    exception = SpendingException(
        kind=kind,
        dp_account_id=dp_account.id if dp_account is not None else (order.dp_account_id if order is not None else None),
        order_id=order.id if order is not None else None,
        actor_id=getattr(actor, "id", None) if actor is not None and getattr(actor, "is_authenticated", True) else None,
        details=_plain(details or {}),
    )
    db.session.add(exception)
    return exception
