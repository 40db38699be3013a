"""The economy's step phases by mechanism, as plain functions: each is given the state it reads and
writes (the firm rows, the banking system, the sector tables, the month's inputs as named bundles)
and returns what the step needs. `sim.model.IndustrialEconomy.step` is the one place where their
order lives; the Mesa reference (sim/reference) replaces the firm-level ones with per-agent Python."""

PLAN = (
    ("1 policy", "regulators apply the schedule for this month; VAT changes reprice at once"),
    ("2 demand", "final demand (trend, cycle, tax-inclusive price, income, support) + input-output + investment"),
    ("3 market shares", "lumpy order and cost shocks; replicator dynamics on relative price and unfilled orders; "
                        "orders = share x demand"),
    ("4 production", "output = min(orders, capacity); unfilled orders go to spare capacity; labour, energy"),
    ("5 costs and prices", "unit cost at input prices; markups; price for next month with VAT pass-through"),
    ("6 income", "sales, wages, energy, inputs, interest, depreciation, VAT, CIT, dividends; balance sheets"),
    ("7 credit", "plan investment; firms ask the lender for shortfalls, investment beyond funds, rollover"),
    ("8 investment", "projects within bans, replacement ratios and caps; upgrades; frontier; imitation"),
    ("9 exit", "bankruptcy, voluntary exit after losses, forced closure of backward capacity by quota"),
    ("10 entry", "entrants in proportion to profitability, damped by the barrier, none under a ban"),
    ("11 accounting", "identities checked, aggregates recorded"),
)
