"""Setting up the economy (IndustrialEconomy's set-up), as plain functions of the scenario and the
named random streams: sectors from the scenario's sector table, firms drawn by sector with
correlated size, productivity and energy intensity, balance sheets from NBS ratios, loan rates as
banks would quote them, and the draws fixed by the run size."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from ..kernels import credit as cr
from ..kernels.shocks import laplace_quantiles
from ..regulators import PolicySchedule, retired_per_unit_built
from ..scenario.schema import SECTORS, interest_share, materials_share
from ..state import Firms

N_S = len(SECTORS)
CASH_TO_REVENUE = 0.12  # deposits over annual revenue at start (inferred from NBS current assets)
OTHER_ASSETS_TO_REVENUE = 0.55  # receivables and inventories over annual revenue (inferred, NBS 2019)


# the balance-sheet fields `balance_sheets` writes
SHEET = ("capital", "cash", "other_assets", "loans", "other_liab", "net_worth")



def sector_calibration(sc) -> dict[str, object]:
    """The sectors' calibration and their state at the start, by name (the model's attributes of the
    same names): input-output coefficients, cost shares, utilisation, growth, build lags, markups
    and margins, populations and final demand in 2019, from the scenario's [sectors] and
    [behaviour]. Raises ValueError when intermediate and investment demand leave no final demand."""
    b = sc.behaviour
    ps = [sc.sectors[s] for s in SECTORS]
    f = lambda name: np.array([getattr(p, name) for p in ps], dtype=float)  # noqa: E731
    c = SimpleNamespace()
    c.io = np.zeros((N_S, N_S))  # io[k, s]: yuan bought from k per yuan of s's output
    for s, p in enumerate(ps):
        for k, a in p.inputs.items():
            c.io[SECTORS.index(k), s] = a
    c.labour = f("labour_share")
    c.services = f("services_share")
    c.energy_share = f("energy_share")
    c.materials = np.array([materials_share(p, b) for p in ps])
    c.elec_share = f("electricity_share")
    c.large_share = f("large_tariff_share")
    c.util_target = f("utilisation_2019")
    c.util_normal = np.full(N_S, float(b.normal_utilisation))
    # critical[k, s]: a shortage of k's output limits s's production (not s's own sector's)
    c.critical = (c.io >= b.critical_input_threshold) & ~np.eye(N_S, dtype=bool)
    c.input_fill = np.ones(N_S)
    c.shortage_import_share = np.array([sc.economy.shortage_import_share[s] for s in SECTORS])
    c.inputs_received = c.io.copy()
    c.growth = f("demand_growth")
    # the growth of its orders a sector's firms expect (learn_growth): the trend at the start
    c.orders_growth_expected = c.growth.copy()
    # the capacity rivals' exits leave to the survivors, net of entrants' (learn_turnover), 1/yr
    c.turnover_expected = np.zeros(N_S)
    c.growth_expected = c.orders_growth_expected + c.turnover_expected
    c.orders_smooth = None
    # intensity of use: the input-output rows drift (phases.demand.intensity_of_use)
    c.intensity_trend = f("input_intensity_trend")
    c.io0, c.materials0 = c.io.copy(), c.materials.copy()
    c.lag = np.array([p.build_lag for p in ps], dtype=np.int64)
    c.dep_month = f("depreciation") / 12.0
    # capacity started a month before the run, and the rules' part of the projects under way
    # (`opening_build_rates`; the capacity rules take rules_share and pipe_share, phases.capacity)
    c.rules_share = f("rules_share")
    c.build_rate, c.pipe_share = opening_build_rates(sc, c.dep_month, c.growth, c.rules_share)
    c.cap_output = f("capital_output")
    c.elasticity = f("price_elasticity")
    c.income_el = f("income_elasticity")
    c.inv_share = f("investment_share")
    c.pass_through = f("vat_pass_through")
    c.frontier_growth = f("frontier_growth")
    c.ei_decline = f("energy_frontier_decline")
    c.entry_rate = f("entry_rate")
    c.rev_month = f("revenue_2019") * 1e12 / 12.0  # yuan/month at 2019 prices
    c.cap0 = c.rev_month / c.util_target
    c.phys_per_yuan = f("capacity_2019") / (c.cap0 * 12.0)  # physical units/yr per yuan/month
    unit = 1.0 - f("profit_margin") - c.cap_output * f("depreciation") - np.array(
        [interest_share(p, b) for p in ps])
    c.markup0 = 1.0 / unit - 1.0
    c.margin0 = f("profit_margin")
    c.population = np.array([p.firms_2019 for p in ps], dtype=float)
    c.workers_per_yuan = c.labour / (b.labour_cost_per_worker / 12.0)
    c.mwh_per_yuan = c.energy_share / b.energy_price_2019
    # demand at start: final = output - intermediate - investment demand
    q0 = c.rev_month
    c.invest0 = float(np.sum((f("depreciation") + c.growth) * c.cap_output * q0))
    z0 = c.io @ q0
    f0 = q0 - z0 - c.inv_share * c.invest0
    bad = [SECTORS[s] for s in range(N_S) if f0[s] < 0.02 * q0[s]]
    if bad:
        raise ValueError(
            f"sectors {bad}: intermediate and investment demand exceed output at start; lower their "
            "inputs (input-output coefficients of buyers) or investment_share"
        )
    c.final0 = f0
    return vars(c)


def allocate_rows(n: int, population: np.ndarray) -> np.ndarray:
    """Model firms by sector for a run of `n` firms: in proportion to the sectors' populations,
    with at least min(50, n / 20) a sector below 1:1."""
    pop = population
    if n >= pop.sum():
        alloc = np.floor(pop * n / pop.sum()).astype(np.int64)
    else:
        alloc = np.maximum(np.round(pop * n / pop.sum()).astype(np.int64), min(50, n // (2 * N_S)))
    alloc[np.argmax(alloc)] += n - alloc.sum()
    return alloc


class OpeningFirms(NamedTuple):
    firms: Firms
    frontier_a: np.ndarray  # productivity frontier (the 98th percentile), by sector
    frontier_ei: np.ndarray  # energy-intensity frontier (the 2nd percentile), by sector
    median_capacity: np.ndarray  # by sector, model-firm units


def opening_firms(sc, cal, alloc: np.ndarray, weight: np.ndarray, streams) -> OpeningFirms:
    """The firms of 2019, sorted by sector (`alloc` model firms a sector, each standing for
    `weight` real ones, with headroom for entrants): ownership, age, size, productivity and energy
    intensity (correlated log-normals, streams "init"), capacity summing to the sector's 2019
    capacity, output at 2019 utilisation, prices at the 2019 markup, balance sheets from NBS ratios
    spread around the sector's (`disperse_sheets`, streams "sheets" and "sheets_history") and the
    pipeline of the time-to-build rule under the status quo's capacity rules. `cal`: the sector
    calibration (`sector_calibration`), by attribute."""
    b = sc.behaviour
    n = int(alloc.sum())
    rows = n + max(int(math.ceil(n * sc.run.headroom)), 10)
    F = Firms(rows)
    g = streams["init"]
    z = g.standard_normal((3, n))
    u = g.random((2, n))  # numpy's own fill: with rng.fill_uniforms 5M-firm runs kept 33 MB more resident
    sector = np.repeat(np.arange(N_S), alloc)
    F.alive[:n] = True
    F.firm_id[:n] = np.arange(n)
    F.sector[:n] = sector
    F.soe[:n] = u[0] < np.array([sc.sectors[s].soe_share for s in SECTORS])[sector]
    F.age[:n] = (u[1] * 240).astype(np.int64)
    rho_sa, rho_ae = b.size_productivity_corr, b.productivity_energy_corr
    sig_size = np.array([sc.sectors[s].size_dispersion for s in SECTORS])[sector]
    sig_a = np.array([sc.sectors[s].productivity_dispersion for s in SECTORS])[sector]
    sig_e = np.array([sc.sectors[s].energy_intensity_dispersion for s in SECTORS])[sector]
    za = rho_sa * z[0] + math.sqrt(1 - rho_sa**2) * z[1]
    ze = rho_ae * za + math.sqrt(1 - rho_ae**2) * z[2]
    size = np.exp(sig_size * z[0]) * np.where(F.soe[:n], b.soe_size_ratio, 1.0)
    prod_ = np.exp(sig_a * za)
    ei = np.exp(sig_e * ze)
    frontier_a = np.ones(N_S)
    frontier_ei = np.ones(N_S)
    median_capacity = np.ones(N_S)
    ends = np.cumsum(alloc)
    for s in range(N_S):
        m = slice(int(ends[s] - alloc[s]), int(ends[s]))  # the sector's rows (firms are sorted by sector)
        # above-size firms have a floor (20 m yuan of revenue): no firm starts so small that the
        # small-share exit rule (behaviour.min_relative_share) would close it in its first month
        size[m] = np.maximum(size[m], 2.0 * b.min_relative_share * size[m].mean())
        cap = size[m] / size[m].sum() * cal.cap0[s] / weight[s]
        a = prod_[m] * np.sum(cap / prod_[m]) / cap.sum()  # capacity-weighted mean of 1/A is 1
        e = ei[m] / (np.sum(cap * ei[m]) / cap.sum())  # capacity-weighted mean of EI is 1
        F.capacity[m] = cap
        F.productivity[m] = a
        F.energy_intensity[m] = e
        F.share[m] = cap / cap.sum()
        frontier_a[s] = np.quantile(a, 0.98)
        frontier_ei[s] = np.quantile(e, 0.02)
        median_capacity[s] = np.median(cap)
    sl = slice(0, n)
    F.share_prev[sl] = F.share[sl]
    F.output[sl] = F.capacity[sl] * cal.util_target[sector]
    F.orders[sl] = F.output[sl]
    F.expected[sl] = F.output[sl]
    F.markup[sl] = cal.markup0[sector]
    va = cal.labour + cal.services
    unit_cost = va[sector] / F.productivity[sl] + cal.energy_share[sector] * F.energy_intensity[sl] + (
        cal.io.sum(axis=0) + cal.materials)[sector]
    F.price[sl] = (1 + F.markup[sl]) * unit_cost
    F.revenue[sl] = F.price[sl] * F.output[sl]
    balance_sheets(cal.cap_output, b, F.sector[sl], 12.0 * F.output[sl], {name: getattr(F, name)[sl] for name in SHEET})
    disperse_sheets(F, alloc, b, cal.margin0, streams)
    # capacity under construction at start: the steady state of the time-to-build rule, at the
    # status quo's rules (`opening_build_rates`)
    lag = cal.lag[sector]
    flow = cal.build_rate[sector]
    F.pipeline[sl] = np.where(lag > 0, F.capacity[sl] * flow * lag, 0.0)
    F.pipeline_cost[sl] = F.pipeline[sl] * (cal.cap_output * 12.0 * cal.util_target)[sector]
    F.sme[sl] = F.capacity[sl] < sme_threshold(b)
    return OpeningFirms(F, frontier_a, frontier_ei, median_capacity)


def sme_threshold(behaviour) -> float:
    """Capacity below which a firm is an SME: the revenue threshold a month (model-firm units)."""
    return behaviour.sme_revenue_threshold / 12.0


def sector_state_at_start(cal, alloc: np.ndarray) -> dict[str, object]:
    """The sectors' state in the first month, by name (the model's attributes of the same names):
    prices at 1, last month's output and investment at 2019's, the smoothed signals at their 2019
    values, no cycle, support or replacement quota, and the references (None) the first month sets."""
    return dict(
        price_index=np.ones(N_S),
        out_prev=cal.rev_month.copy(),  # economy-wide real output last month
        vat_factor=np.ones(N_S),
        vat_blend=np.ones(N_S),
        final_share=cal.final0 / cal.rev_month,
        util_smooth=cal.util_target.copy(),
        invest_prev=cal.invest0,
        cycle=np.zeros(N_S),
        support=np.ones(N_S),
        quota_pool=np.zeros(N_S),
        _harmonic0=None,
        income_smooth=None,
        income0=None,
        tax_smooth=None,
        tax0=None,
        margin_smooth=cal.margin0.copy(),
        wedge_level=np.zeros(N_S),  # the sectors' average cost wedge, which prices pass on
        ptax0=None,
        entry_max=np.maximum(4, np.ceil(0.02 * alloc)).astype(np.int64),
    )


class BuildRates(NamedTuple):
    whole: np.ndarray  # capacity started a month per unit of the sector's capacity, by sector
    covered_share: np.ndarray  # the part the capacity rules cover of the capacity under construction


def opening_build_rates(sc, dep_month: np.ndarray, growth: np.ndarray, share: np.ndarray) -> BuildRates:
    """The rate at which the sectors start capacity in the steady state before the run, and the
    rules' part `share` (`sectors.<s>.rules_share`) of the projects under way. Firms build for
    depreciation and trend growth, max(dep + g, 0) a year. Where the status quo ([policy]) bans new
    capacity or sets a replacement ratio, the rules cap what their part of a sector (the aluminium
    of non-ferrous metals) builds at the capacity retired over the ratio, so that part builds what
    it would without the rule, at most the compliant projects, as in the run (plans scaled down to
    the allowed expansion, `capacity.expansion_allowed`), and the rest of the sector builds freely.
    The cap binds unless the trend shrinks the sector faster than dep (1 - 1/ratio). (The projects
    go on: only a rule that starts during the run halts projects, regulators.IndustryRegulator.) A
    ratio of 1e-219, which hypothesis drew, gives an infinite cap, which the minimum drops."""
    ratio = status_quo_replacement_ratio(sc)
    wanted = np.maximum(dep_month + growth / 12.0, 0.0)
    with np.errstate(over="ignore", divide="ignore"):
        compliant = dep_month / np.where(ratio > 0, ratio, 1.0)
    covered = np.where(ratio > 0, np.minimum(compliant, wanted), wanted)
    whole = np.where(share >= 1.0, covered, share * covered + (1.0 - share) * wanted)
    with np.errstate(invalid="ignore", divide="ignore"):
        covered_share = np.where(whole > 0, share * covered / whole, share)
    return BuildRates(whole, covered_share)


def status_quo_replacement_ratio(sc) -> np.ndarray:
    """Retired capacity needed per unit built, by sector, under [policy] (0: no rule; a ban
    without a ratio needs one for one)."""
    quo = PolicySchedule(sc).values  # [policy], expanded by sector as the regulators read it
    return retired_per_unit_built(quo["replacement_ratio"], quo["ban_new_capacity"])


def opening_profit(firms, margin0: np.ndarray, rev_month: np.ndarray) -> None:
    """The first month's profit of every firm: the sector's margin on its revenue, less its own
    cost wedge. Writes firms.profit."""
    F = firms
    a = F.alive
    F.profit[a] = (margin0 * rev_month / np.maximum(rev_month, 1))[F.sector[a]] * F.revenue[a] - (
        F.cost_wedge[a] * F.output[a])


def opening_loan_rates(firms, sc, policy, bank_margin: np.ndarray) -> None:
    """Loans at start carry the rate a bank would quote today (policy rate, the lead bank's
    margin, SME premium, expected loss at the firm's credit score), and last year's profit is what
    the opening sheets imply. Writes firms.loan_rate and profit_year."""
    F, c, p = firms, sc.banking, policy
    a = F.alive
    rate = p.policy_rate + bank_margin[F.bank] + np.where(F.sme, c.sme_premium, 0.0) + (
        F.pd * c.loss_given_default)
    F.loan_rate[a] = rate[a]
    # the last year's profit as the opening sheets imply it (before tax): the sector's margin, less the
    # firm's cost wedge and its interest beyond the sector's average share of revenue
    ps = [sc.sectors[s] for s in SECTORS]
    interest0 = np.array([interest_share(q, sc.behaviour) for q in ps])[F.sector[a]] * F.revenue[a]
    F.profit_year[a] = 12.0 * (F.profit[a] + interest0 - F.loans[a] * F.loan_rate[a] / 12.0)


def credit_scores(firms, sc, policy) -> None:
    """Every firm's credit score from its income statement and balance sheet. Writes firms.pd."""
    cr.credit_scores(firms.bundle(), cr.score_params(sc.banking, policy))


def balance_sheets(cap_output: np.ndarray, b, s: np.ndarray, revenue_year: np.ndarray,
                   out: dict[str, np.ndarray]) -> None:
    """Opening balance sheets of firms in sectors `s` with yearly revenue `revenue_year`, written
    into out[name] for the names in SHEET (views of the firm arrays at set-up, so that no
    temporaries the size of the economy pile up; fresh arrays for entrants). `b`: [behaviour]."""
    out["capital"][:] = cap_output[s] * revenue_year
    out["cash"][:] = CASH_TO_REVENUE * revenue_year
    out["other_assets"][:] = OTHER_ASSETS_TO_REVENUE * revenue_year
    assets = out["capital"] + out["cash"] + out["other_assets"]
    out["loans"][:] = b.debt_to_assets * b.interest_bearing_share * assets
    out["other_liab"][:] = b.debt_to_assets * (1 - b.interest_bearing_share) * assets
    out["net_worth"][:] = assets - out["loans"] - out["other_liab"]


def disperse_sheets(F, alloc: np.ndarray, b, margin0: np.ndarray, streams) -> None:
    """Opening balance sheets spread around the sector's (MODEL.md, Distress). Writes the firms' sheets,
    leverage targets, cost wedges and loss months.

    Each firm's liabilities-to-assets ratio is logit-normal around its sector's, shifted up for
    state-owned and (optionally) large firms; its deposits carry a log-normal multiplier. Both are
    then scaled within the sector so that the sector's totals of deposits, loans, other
    liabilities and hence equity are those of `balance_sheets` (the closed economy's opening
    balance sheet and the calibrated aggregates do not move; only the spread does). Loans and
    other liabilities keep the sector's split. The firm's opening ratio is also its own target
    (`leverage_target`), which it borrows back towards at its credit reviews: its financial
    structure persists, as firm leverage does in the data (Lemmon, Roberts and Zender, JF 2008).
    The firm's own cost wedge (profitability, part of the same issue) is drawn here too: Laplace
    with scale `cost_wedge_scale`, thinned to the survivors' distribution (`survivors_history`),
    capacity-weighted mean zero in each sector, so sector costs at start are unchanged.
    Draws: the "sheets" stream, three numbers a firm, whatever the settings (common random
    numbers); the survivors' history draws from its own stream."""
    n = int(alloc.sum())
    sl = slice(0, n)
    g = streams["sheets"]
    z = g.standard_normal((2, n))
    u = g.random(n)
    large = F.capacity[sl] >= b.sme_revenue_threshold / 12.0
    shift = np.where(F.soe[sl], b.soe_leverage_shift, 0.0) + np.where(large, b.large_leverage_shift, 0.0)
    ratio = leverage_ratio(b, shift, z[0])
    cash_mult = np.exp(b.liquidity_dispersion * z[1])
    wedge = laplace_quantiles(u, b.cost_wedge_scale)
    loss_months = survivors_history(F, wedge, n, b, margin0, streams["sheets_history"])
    ends = np.cumsum(alloc)
    for s in range(N_S):  # sector by sector (ten slices, not a loop over firms)
        m = slice(int(ends[s] - alloc[s]), int(ends[s]))
        cash = F.cash[m]
        cash[:] = cash * cash_mult[m] * (cash.sum() / np.dot(cash, cash_mult[m]))
        assets = F.capital[m] + cash + F.other_assets[m]
        owed = assets * ratio[m]
        for name in ("loans", "other_liab"):
            x = getattr(F, name)[m]
            x[:] = owed * (x.sum() / owed.sum())
        F.net_worth[m] = assets - F.loans[m] - F.other_liab[m]
        F.leverage_target[m] = (F.loans[m] + F.other_liab[m]) / assets
        cap = F.capacity[m]
        F.cost_wedge[m] = wedge[m] - np.dot(cap, wedge[m]) / cap.sum()
    F.loss_months[sl] = loss_months

def survivors_history(F, wedge: np.ndarray, n: int, b, margin0: np.ndarray, g) -> np.ndarray:
    """The opening firms are the survivors of a process that has run for years, not firms just
    drawn: a firm whose cost wedge makes it lose money has been losing since its last cost shock,
    a time tau ~ Exponential(`cost_shock_prob`), and is still here only if tau is below
    `loss_months_exit` (else it would have left). So a loss-making wedge is kept with the
    probability that its tau falls below the exit threshold, and redrawn otherwise (rejection
    sampling of the stationary distribution of wedges among incumbents, in which loss-making
    wedges are 1 - exp(-h T) as frequent as among draws: 0.63 at the defaults); the survivor
    starts with tau months of losses behind it, so the opening loss-makers' exits are spread out
    instead of all falling in month `loss_months_exit`. Loss-making: the wedge per unit of output
    exceeds the sector's margin at the opening price. `wedge` is redrawn in place (firm i's
    candidates come from the "sheets_history" stream, two uniforms a round). Returns the opening
    loss months."""
    h, T = b.cost_shock_prob, b.loss_months_exit
    months = np.zeros(n, dtype=np.int32)
    if b.cost_wedge_scale <= 0 or h <= 0:
        return months
    edge = margin0[F.sector[:n]] * F.price[:n]
    todo = np.flatnonzero(wedge > edge)
    for _ in range(64):  # a round keeps about 0.63 of the loss-makers and redraws the rest
        if todo.size == 0:
            break
        v = g.random((2, todo.size))
        tau = -np.log1p(-v[0]) / h
        keep = tau < T
        months[todo[keep]] = tau[keep].astype(np.int32)
        todo = todo[~keep]
        wedge[todo] = laplace_quantiles(v[1][~keep], b.cost_wedge_scale)
        todo = todo[wedge[todo] > edge[todo]]
    return months


def predraw(streams, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws whose shape depends only on the run size, made once and shared across scenarios: the
    demand shocks (common and by sector) and the frontier's innovations, a month each."""
    shocks = streams["demand"].standard_normal((months, N_S + 1))
    frontier_shocks = streams["innovation"].standard_normal((months, 2, N_S))
    return shocks, frontier_shocks


def leverage_ratio(b, shift, z):
    """A firm's liabilities-to-assets ratio: logit-normal around `debt_to_assets`, logit sd
    `leverage_dispersion` (standard normal z), shifted by `shift` (state-owned, large firms): the
    opening spread (`disperse_sheets`) and entrants' targets (`entry.new_firms`)."""
    d0 = b.debt_to_assets
    return 1.0 / (1.0 + np.exp(-(math.log(d0 / (1.0 - d0)) + shift + b.leverage_dispersion * z)))
