"""The kernels' parameter tuples of a run, made once instead of every month (issue 22 part 2).

A parameter tuple is made from the scenario's behaviour and banking settings, which do not change
during a run, and from instruments of the policy in force, which the regulators change on the
schedule's dates. `RunParams` makes each tuple at its first use and again only when an instrument it
read is another object than when it was made: the regulators take the schedule's values as they are
(regulators.Regulator.step), and a change in the schedule makes a new one, so a change reaches the
tuple in the month it acts. Which instruments a tuple reads is recorded as it is made (`_Reads`), so
the builders (in the kernels' modules) need not say.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import fields

from ..kernels import accounting as acc
from ..kernels import credit as cr
from ..kernels import investment as inv
from ..kernels import market as mkt
from ..kernels import production as prod
from ..kernels import shocks
from ..regulators import PolicyState

_ABSENT = object()  # an instrument the policy does not have (a builder may ask with hasattr)
_STATE = frozenset(f.name for f in fields(PolicyState))  # the policy's own fields, not instruments


class _Reads:
    """The policy in force as a builder sees it, noting the instruments it reads (`names`), and
    whether it read anything else of the policy (`other`: then the tuple is made at every call)."""

    def __init__(self, policy: PolicyState):
        self._policy, self.names, self.other = policy, [], False

    def __getattr__(self, name: str):
        values = self._policy.values
        if name in _STATE or name not in values:
            self.other |= name in _STATE
            if name not in _STATE:
                self.names.append(name)
            return getattr(self._policy, name)
        self.names.append(name)
        return values[name]


class RunParams:
    """The parameter tuples of the kernels the step launches with the run's settings (`behaviour`:
    scenario.behaviour; `banking`: scenario.banking) and the policy in force (`policy`, the model's
    PolicyState, whose values the regulators set each month)."""

    def __init__(self, behaviour, banking, policy: PolicyState):
        self.behaviour, self.banking, self.policy = behaviour, banking, policy
        b = behaviour
        # of the behaviour settings alone
        self.market = mkt.market_params(b)
        self.pricing = prod.pricing_params(b)
        self.shocks = shocks.shock_params(b)
        self.plan = inv.plan_params(b)
        self.execute = inv.execute_params(b)
        self.no_payout = acc.no_payout()  # (arrays of length 0: nothing is written into them)
        self._made: dict[object, tuple[tuple[str, ...], tuple, object] | None] = {}

    def following(self, key, build: Callable[[object], object]):
        """build(policy): made again only when an instrument it read (as `_Reads` noted) is another
        object in the policy in force than when it was made; `key` names the tuple."""
        made = self._made.get(key)
        values = self.policy.values
        if made is not None:
            names, seen, value = made
            if all(map(operator.is_, [values.get(n, _ABSENT) for n in names], seen)):
                return value
        reads = _Reads(self.policy)
        value = build(reads)
        names = tuple(reads.names)
        self._made[key] = None if reads.other else (names, tuple(values.get(n, _ABSENT) for n in names), value)
        return value

    def income(self) -> acc.IncomeParams:
        return self.following("income", lambda p: acc.income_params(self.banking, p, self.behaviour))

    def score(self) -> cr.ScoreParams:
        return self.following("score", lambda p: cr.score_params(self.banking, p))

    def repay(self, month: int, review_share: float) -> cr.RepayParams:
        """`cr.repay_params` of the month (which reads its number modulo 12) and the review share
        (made from the behaviour settings: the same all run)."""
        return self.following(("repay", month % 12, review_share),
                              lambda p: cr.repay_params(self.behaviour, self.banking, p, month, review_share))
