"""Council pages: home, linking to every back-office page the signed-in member of staff may use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.council import bp
from portal.data import guides, moderation
from portal.models import utcnow
from portal.public.pages import url_if_exists
from portal.security import rule_for_endpoint


@dataclass(frozen=True)
class Task:
    endpoint: str
    title: object  # lazy string
    description: object


# Several of these pages are written by other teams: a task shows only once its page exists, and only to
# staff whose roles the page's own access rule lets in.
TASKS: tuple[Task, ...] = (
    Task("council.providers", _l("Provider approvals"),
         _l("Check and approve organisations that want to list their services.")),
    Task("council.moderation_queue", _l("Changes waiting for review"),
         _l("Approve or reject the changes providers make to their listings.")),
    Task("council.reports", _l("Problem reports"),
         _l("Reports from the public about listings that are wrong.")),
    Task("council.stale_listings", _l("Listings not checked for a year"),
         _l("Listings whose providers have not confirmed they are still accurate.")),
    Task("council.guides_list", _l("Guides"),
         _l("Write, review and publish information and advice guides.")),
    Task("council.dp_accounts_list", _l("Direct payment accounts"),
         _l("Open accounts, set care and support plans, add top-ups and close accounts.")),
    Task("council.dp_exceptions", _l("Spending exceptions"),
         _l("Refused purchases, declined cards, disputes and unusual patterns of spending to review.")),
    Task("council.dp_journals", _l("Direct payment journals"),
         _l("Every movement of direct-payment money, searchable by account, type and date.")),
    Task("council.dp_payables", _l("Provider payments"),
         _l("What providers are owed: create a payment run for finance and mark it paid.")),
    Task("council.dp_reclaims", _l("Surplus reclaimed"),
         _l("Money returned to the council at the end of each budget period.")),
    Task("council.audit", _l("Audit trail"),
         _l("Who changed what, and when, with the values before and after.")),
    Task("council.payout_details", _l("Provider bank details"),
         _l("Check the bank details providers are paid into before they can sell priced offers.")),
)


def _tasks_for_current_user() -> list[dict]:
    found = []
    for task in TASKS:
        href = url_if_exists(task.endpoint)  # None until the page exists (or when it needs arguments)
        rule = rule_for_endpoint(task.endpoint) if href else None
        if rule is None or not rule.permits(current_user):
            continue
        found.append({"href": href, "title": task.title, "description": task.description,
                      "endpoint": task.endpoint})
    return found


@bp.get("")
def home():
    tasks = _tasks_for_current_user()
    waiting = moderation.waiting_count() if any(t["endpoint"] == "council.moderation_queue" for t in tasks) else None
    guides_due = (guides.due_for_review_count(utcnow().date())
                  if any(t["endpoint"] == "council.guides_list" for t in tasks) else None)
    return render_template("council/home.html", tasks=tasks, waiting=waiting, guides_due=guides_due)
