"""Firm-level phases of the step (MODEL.md steps 1, 3-6, 8, 9), as plain functions over the state
they are given: the firm rows (`state.Firms`), the banking system, the sector tables
(`state.SectorTables`) and the month's inputs, each as a named bundle. Each says in its signature what
it reads and in its docstring what it writes; none reaches the model. `IndustrialEconomy` calls them in
MODEL.md's order (sim/model.py); the Mesa reference (sim/reference) replaces them with per-agent
Python."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernels import accounting as acc
from ..kernels import exit_entry as xe
from ..kernels import investment as inv
from ..kernels import market as mkt
from ..kernels import production as prod
from ..kernels import sector_month, shocks, sums
from .totals import SectorTotals


class Rules(NamedTuple):
    """The month's rules: the scenario's behaviour and banking settings and the policy in force."""
    behaviour: object  # scenario.behaviour
    banking: object  # scenario.banking
    policy: object  # regulators.PolicyState
    params: object = None  # the kernels' parameter tuples made of them (phases.params.RunParams)


class SectorCosts(NamedTuple):
    """Sector-level costs and prices of the month (per unit of output, 2019 prices, by sector)."""
    labour: np.ndarray  # labour cost at the 2019 wage
    services: np.ndarray  # services bought from the rest of the economy
    energy: np.ndarray  # energy cost (energy share x energy price index)
    materials: np.ndarray  # inputs from the modelled sectors and materials, at this month's prices
    wedge: np.ndarray  # the sector's average cost wedge, which prices pass on
    anchor: np.ndarray  # the markup prices are anchored to
    vat_rate: np.ndarray  # VAT on output
    vat_inputs: np.ndarray  # input VAT per unit of output
    vat_blend: np.ndarray  # the sales-weighted VAT margin factor
    normal_utilisation: np.ndarray
    workers_per_yuan: np.ndarray
    mwh_per_yuan: np.ndarray


class Production(NamedTuple):
    harmonic: float  # capacity-weighted harmonic mean of productivity (the wage index's base)
    wage_index: float
    deposits_before: float  # firm deposits before the income statements, economy-wide yuan
    deposits_after: float  # after the income statements, before any distributions
    deposits_left: float  # after the distributions made in the income pass (with `payout`; else 0)


def reprice(firms, factor: np.ndarray) -> None:
    """Step 1: posted prices follow a change of the sector's VAT margin factor. Writes firms.price."""
    sums.reprice(firms.alive, firms.sector, factor, firms.price)


def firm_shocks(firms, u: np.ndarray, params: shocks.ShockParams, n_sectors: int) -> np.ndarray:
    """Step 3 (first): lumpy order and cost shocks of every firm from this month's uniforms `u`
    (kernels.shocks, with `params`); the market step renormalises the shares they move. Writes firms' shares and
    cost wedges. Returns the sectors' average cost wedge after the shocks, summed in the same pass
    (`sector_cost_wedge` gives the same numbers)."""
    wedge = np.zeros(n_sectors)
    shocks.firm_shocks(firms.bundle(), u, params, wedge)
    return wedge


def produce_and_book(firms, sectors, banking, demand: mkt.MarketDemand, costs: SectorCosts, rules: Rules,
                     harmonic0: float | None, input_bill, out: np.ndarray, payout: acc.Payout | None = None
                     ) -> Production:
    """Steps 3-6 firm by firm: replicator shares, orders and output, labour and energy (3-4); the
    wage index (wages follow the economy's mean productivity against `harmonic0`, the first month's;
    None: this month is the first), unit costs (with the sector's average cost wedge), markups and
    prices for next month (5); the income statement of every firm into `out` (per sector, per model
    firm), the banks' interest, and the credit scores of step 7 (6). `input_bill`: None, or (closed
    economy) a function of the VAT rate, the input VAT rate and the live firms' output and revenue
    by sector (model-firm units, columns 0 and 1) that returns what buyers pay per unit of output for
    the inputs delivered and the input VAT on them, called once output is known.
    `payout`: None, or (closed economy) the distributions of excess deposits, made in the income
    pass (accounting.income; they write payout.paid and the payers' cash and scores).
    Writes every firm's market, production, price and income fields, `out`, and the banks' interest
    income and deposit interest (banking)."""
    b, p, k = rules.behaviour, rules.policy, rules.params
    F = firms.bundle()
    # the wage index, unit costs, markups and prices (step 5) are made in the market step's last pass;
    # (the closed economy's input bill needs the sectors' output and revenue: summed in the same pass)
    prices = prod.PriceInputs(labour=costs.labour, services=costs.services,
                              normal_utilisation=costs.normal_utilisation, energy_cost=costs.energy,
                              material_cost=costs.materials + costs.wedge, markup_anchor=costs.anchor,
                              vat_factor=costs.vat_blend, harmonic0=-1.0 if harmonic0 is None else float(harmonic0),
                              wage_elasticity=float(b.wage_productivity_elasticity), wage_index=np.zeros(1))
    sold = np.zeros((0 if input_bill is None else costs.vat_rate.shape[0], 2))
    harmonic = mkt.market_step(F, sectors, demand, k.market, prices, k.pricing, sold)
    wage_index = float(prices.wage_index[0])  # labour share roughly stable
    labour_cost = costs.labour * wage_index
    material_cost, vat_inputs = costs.materials, costs.vat_inputs
    if input_bill is not None:  # buyers pay for the inputs delivered (sim.economy)
        material_cost, vat_inputs = input_bill(costs.vat_rate, p.vat_rate_inputs, sold)
    booked = acc.IncomeCosts(labour=labour_cost, services=costs.services, energy=costs.energy,
                             materials=material_cost, vat_rate=costs.vat_rate, vat_inputs_per_q=vat_inputs,
                             workers_per_yuan=costs.workers_per_yuan, mwh_per_yuan=costs.mwh_per_yuan,
                             normal_utilisation=costs.normal_utilisation)
    left = acc.income(F, sectors, booked, k.income(), k.score(), acc.bank_flows(banking),
                      k.no_payout if payout is None else payout, out)
    banking.shift_interest()  # the lead booked each row's interest: participants take their shares
    W = sectors.weight
    before, after = sector_month.weighted_column_sums(out, acc.I_DEPOSITS_BEFORE, acc.I_DEPOSITS_AFTER, W)
    return Production(harmonic, wage_index, float(before), float(after), float(left))


def plan_investment(firms, sectors, prices: inv.InvestmentPrices, params: inv.PlanParams, va_cost, energy_cost,
                    u_review, out_requested: np.ndarray) -> None:
    """Step 7 (first half): expectations, desired expansion and upgrade plans. Writes the firms'
    expectations and plans, and the requested expansion by sector into `out_requested` (model-firm
    units)."""
    inv.plan_investment(firms.bundle(), sectors, prices, params, va_cost, energy_cost, u_review, out_requested)


def execute_investment(firms, sectors, totals: SectorTotals, prices: inv.InvestmentPrices,
                       params: inv.ExecuteParams, factor, u_imit, out: np.ndarray) -> float:
    """Step 8: pipeline completion, new projects and upgrades within funds, imitation, depreciation,
    net worth. Writes the firms' capacity, pipeline, technology, cash and net worth, the per-sector
    table `out` and the sector totals (summed in the same pass). Returns the firms' deposits after
    (economy-wide yuan, for the stock-flow check)."""
    deposits = inv.execute_investment(firms.bundle(), sectors, prices, params, factor, u_imit, out)
    totals.set(out[:, [inv.V_FIRMS, inv.V_CAPACITY, inv.V_PIPELINE]])
    return float(deposits)


def exits(firms, banking, sectors, totals: SectorTotals, params: xe.ExitParams, min_share: np.ndarray, draws,
          out: np.ndarray) -> tuple[float, float]:
    """Step 9: bankruptcy (after the banks' and local governments' rescues, drawn from `draws` for the
    rows that would leave) and voluntary exit. Writes the leaving firms' rows, the estates in court,
    the banks' books and write-offs (banking), the per-sector table `out` and the survivors' totals.
    Returns the survivors' deposits (economy-wide yuan) and the largest gap between a bank's books and
    its firms' loans, for the stock-flow checks."""
    F, B = firms.bundle(), banking.banks.bundle()
    decided = xe.exit_decisions(F, B, sectors, params, min_share, totals.values.shape[0])
    u = draws.at(decided[0])  # the banks' rollover decisions (leaving rows only)
    books = xe.ExitBooks(writeoff=banking.writeoff, table=out, totals=totals.values, parts=banking.parts)
    deposits, gap = xe.exit_books(decided, u, F, B, sectors, params, books)
    banking.drop_dead_parts()
    totals.mark_summed()  # the survivors' totals (forced closures, if any, invalidate them)
    return float(deposits), float(gap)


def forced_closures(firms, banking, sectors, totals: SectorTotals, params: xe.ExitParams, compensation: np.ndarray,
                    order: np.ndarray, frac: np.ndarray, out: np.ndarray) -> None:
    """Step 9: close the firms in `order` (whole, or the fraction `frac` of the marginal one), paid
    `compensation` (share of capital, by sector). Writes their rows, the banks' books and write-offs
    and the per-sector table `out`."""
    totals.invalidate()
    books = xe.ExitBooks(writeoff=banking.writeoff, table=out, totals=totals.values, parts=banking.parts)
    xe.forced_closures(order, frac, compensation, firms.bundle(), banking.banks.bundle(), sectors, params, books)
    banking.drop_dead_parts()


def sector_cost_wedge(firms, n_sectors: int) -> np.ndarray:
    """The sectors' average cost wedge per unit of output: the live firms' wedges weighted by last
    month's output (kernels.sums). Unit costs for pricing include it (`produce_and_book`), so the
    sector's margin does not depend on it: when loss-makers with high wedges exit, prices fall
    (the productivity gain of selection goes to buyers, as in Hopenhayn, Econometrica 1992, and
    Melitz, Econometrica 2003) instead of margins ratcheting up."""
    out = np.zeros(n_sectors)
    sums.sector_weighted_mean(firms.alive, firms.sector, firms.cost_wedge, firms.output, out)
    return out
