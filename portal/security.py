"""Access rules: every endpoint declares who may use it, and anything undeclared is refused.

Use the decorators on views (``@public``, ``@signed_in``, ``@roles_required(Role.COUNCIL_MODERATOR)``) or
``guard_blueprint(bp, rule)`` for a whole audience's blueprint. ``enforce_access`` runs before every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from portal.extensions import login_manager
from portal.models import Role


@dataclass(frozen=True)
class AccessRule:
    name: str
    needs_sign_in: bool
    roles: frozenset[Role] = frozenset()

    def __call__(self, view: Callable) -> Callable:
        view.access_rule = self
        return view

    def permits(self, user) -> bool:
        if not self.needs_sign_in:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)


public = AccessRule("public", needs_sign_in=False)
signed_in = AccessRule("signed in", needs_sign_in=True)


def roles_required(*roles: Role) -> AccessRule:
    return AccessRule("roles: " + ", ".join(sorted(r.value for r in roles)), needs_sign_in=True, roles=frozenset(roles))


_BLUEPRINT_RULES: dict[str, AccessRule] = {}
# Flask's own static file endpoint: public by nature.
_PUBLIC_ENDPOINTS = {"static"}


def guard_blueprint(blueprint: Blueprint, rule: AccessRule) -> None:
    """Apply ``rule`` to every view of ``blueprint`` that does not declare its own."""
    _BLUEPRINT_RULES[blueprint.name] = rule


def rule_for_endpoint(endpoint: str) -> AccessRule | None:
    if endpoint in _PUBLIC_ENDPOINTS:
        return public
    view = current_app.view_functions.get(endpoint)
    rule = getattr(view, "access_rule", None)
    if rule is not None:
        return rule
    blueprint = endpoint.rpartition(".")[0]
    return _BLUEPRINT_RULES.get(blueprint)


def enforce_access():
    if request.endpoint is None:  # 404 / 405: nothing to guard
        return None
    rule = rule_for_endpoint(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s has no access rule: refused", request.endpoint)
        abort(403)
    if rule.permits(current_user):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    abort(403)
