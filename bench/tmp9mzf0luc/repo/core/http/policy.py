"""Group policies of routes (miqro's ``policy``): who may call a route, by the session's groups.

A route method declares ``"policy": {"groups": ["admin", "editor"], "groupPolicy": "at_least_one"}``
(or ``"all"``). It is compiled at start-up into one chain step that runs right after the
controller that establishes ``req.mia.session`` (a controller class with ``sets_session = True``,
such as ``generic-validateJWT``); a route with a policy and no such controller stops start-up,
because the policy could never be checked. A session without the groups answers 403
``GroupPolicyViolation`` in the standard envelope.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.errors import MiaError, StartupError
from core.http.chain import ChainStep

POLICIES = ("at_least_one", "all")


@dataclass(frozen=True)
class Policy:
    """A compiled ``policy``: the groups and whether one or all of them are needed."""

    groups: tuple[str, ...]
    group_policy: str = "at_least_one"

    def allows(self, groups: Any) -> bool:
        have = set(groups) if isinstance(groups, (list, tuple, set)) else set()
        if self.group_policy == "all":
            return set(self.groups) <= have
        return bool(have.intersection(self.groups))

    def check(self, req: Any, res: Any) -> None:
        """The chain step: 401 without a session, 403 when its groups do not satisfy the policy."""
        session = getattr(req.mia, "session", None)
        if not isinstance(session, dict):
            raise MiaError(401, code="SessionMissing")
        if not self.allows(session.get("groups")):
            raise MiaError(403, code="GroupPolicyViolation",
                           msg=req.mia.translator(None, "GroupPolicyViolation", [", ".join(self.groups)]))


def compile_policy(spec: Any, where: str, label: str) -> Policy | None:
    """``policy`` of a route method -> :class:`Policy`; bad declarations stop start-up naming the file."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) - {"groups", "groupPolicy"}:
        raise StartupError(f"policy of {label} must be a dict with 'groups' and optional 'groupPolicy'", where)
    groups = spec.get("groups")
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list) or not groups or not all(isinstance(g, str) and g for g in groups):
        raise StartupError(f"policy.groups of {label} must be a non-empty list of group names", where)
    group_policy = spec.get("groupPolicy", "at_least_one")
    if group_policy not in POLICIES:
        raise StartupError(f"policy.groupPolicy of {label} must be one of {', '.join(POLICIES)}, "
                           f"got {group_policy!r}", where)
    return Policy(tuple(groups), group_policy)


def with_policy(steps: list[ChainStep], policy: Policy | None, where: str, label: str) -> list[ChainStep]:
    """The chain with the policy check inserted after the controller that sets the session."""
    if policy is None:
        return steps
    for position, step in enumerate(steps):
        if getattr(step.controller, "sets_session", False):
            check = replace(step, name="policy", function="check", call=policy.check, precondition=None)
            return steps[:position + 1] + [check] + steps[position + 1:]
    raise StartupError(f"route method {label} declares a policy but no controller of its chain sets "
                       "req.mia.session (add generic-validateJWT before the controllers it protects)", where)
