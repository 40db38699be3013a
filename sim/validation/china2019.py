"""China's industry around 2019: the calibration targets a baseline run must fall near (utilisation,
cost shares, finance, prices), with sources."""

from __future__ import annotations

from .measures import (
    NO_DEFAULTS,
    Target,
    _loan_rate,
    _mean_after,
    _prod_gap,
    _rate,
    _snap_share,
    cost_share,
    debt_to_assets,
    firm_count_growth,
    utilisation,
)

CHINA_2019: tuple[Target, ...] = (
    Target(
        "utilisation",
        "calibration",
        "Industrial capacity utilisation",
        "%",
        0.736,
        0.796,
        "76.6%",
        0.766,
        "NBS via gov.cn, 2019 (docs/calibration-facts.md #33)",
        utilisation,
        "the first year averages ~78%, the decade ~83%: capacity lags trend demand growth (build lags up to "
        "24 months, the stock-management rule), and the status quo's bans and 1.25:1 replacement hold steel, "
        "cement and glass capacity while their demand grows",
    ),
    Target(
        "utilisation_steel",
        "calibration",
        "Utilisation: steel",
        "%",
        0.75,
        0.85,
        "~80%",
        0.80,
        "NBS via SteelOrbis, 2019, inferred (#34)",
        lambda r: utilisation(r, "steel"),
        "the status-quo capacity rules (no net new capacity, 1.25 retired per unit built; MIIT 2018) hold "
        "capacity while demand grows at the assumed 3%/yr: utilisation climbs from 82% in the first year to "
        "~100% by the fifth. NBS steel smelting utilisation was 78.8% in 2020 (docs/history.md)",
    ),
    Target(
        "utilisation_cement",
        "calibration",
        "Utilisation: cement",
        "%",
        0.55,
        0.67,
        "~61%",
        0.61,
        "CCA (mirror): 2.33 / 3.8 bn t, inferred, weak (#29-30)",
        lambda r: utilisation(r, "cement"),
        "firms plan capacity for normal utilisation (76.6%, NBS 2019), not for cement's 2019 overcapacity: "
        "incumbents stop adding capacity while below it, so utilisation climbs from 62% in the first year to "
        "~69% by the sixth as demand grows; the 2019 figure is a starting point the model leaves by design",
    ),
    Target(
        "utilisation_glass",
        "calibration",
        "Utilisation: flat glass",
        "%",
        0.62,
        0.78,
        "~70%",
        0.70,
        "no public figure; sectors.toml, inferred (weak)",
        lambda r: utilisation(r, "flat_glass"),
        "the status-quo ban on new flat-glass capacity (Guo Fa [2013] No. 41) holds capacity while demand "
        "grows at the assumed 2%/yr: utilisation climbs from 70% to ~88% in six years",
    ),
    Target(
        "utilisation_aluminium",
        "calibration",
        "Utilisation: aluminium (nonferrous)",
        "%",
        0.85,
        0.95,
        "~90%",
        0.90,
        "SMM 2019: 36.59 / 40.73 Mt (#28)",
        lambda r: utilisation(r, "nonferrous"),
        "when the 45 Mt cap and one-for-one replacement held the whole non-ferrous sector, utilisation ran "
        "near 100% from the third year; they hold its aluminium part (sectors.nonferrous.rules_share 0.1), "
        "and the rest of the sector builds for its demand",
    ),
    Target(
        "debt_to_assets",
        "calibration",
        "Debt-to-asset ratio, industrial firms",
        "%",
        0.536,
        0.596,
        "56.6%",
        0.566,
        "NBS 2019 (#43)",
        debt_to_assets,
        "56.6% at the start by construction; at their yearly credit-line review firms borrow 46% of the "
        "gap to their target (behaviour.leverage_adjustment = 0.05 a month) besides their needs and pay "
        "down half that share of an excess (behaviour.leverage_reduction); retained profits grow assets, "
        "so the ratio drifts below the target",
    ),
    Target(
        "sme_share",
        "calibration",
        "SME share of above-size firms (sme flag)",
        "%",
        0.965,
        0.985,
        "~97.5%",
        0.975,
        "large firms ~2.5% of above-size firms (NBS size classes; sectors.toml, inferred)",
        lambda r: _snap_share(r, "sme"),
        "the model's SME flag is revenue under 400 m yuan only; NBS's large class also needs 1,000 "
        "employees. With 2019 revenue per firm (~280 m yuan) and log-normal sizes (sd 1.7-2.0, set by the "
        "Pareto-tail target), ~15% of firms sell more than 400 m yuan",
    ),
    Target(
        "soe_share",
        "calibration",
        "State-controlled share of above-size firms (private: the rest)",
        "%",
        0.04,
        0.07,
        "~5.5%",
        0.055,
        "NBS 2019 state-holding firms (sectors.toml); 1.3% of all firms (#36)",
        lambda r: _snap_share(r, "soe"),
    ),
    Target(
        "npl_ratio",
        "calibration",
        "Non-performing loan ratio",
        "%",
        0.010,
        0.030,
        "1.86%",
        0.0186,
        "CBIRC 2019 (#51)",
        lambda r: _mean_after(r.ds.npl_ratio),
        NO_DEFAULTS,
    ),
    Target(
        "loan_rate_large",
        "calibration",
        "Loan rate, large firms (stock)",
        "%",
        0.043,
        0.053,
        "~4.8%",
        0.048,
        "PBOC 2019: big-5 4.79%, LPR 4.31% (#46, #49)",
        _loan_rate("large", new=False),
    ),
    Target(
        "loan_rate_sme",
        "calibration",
        "Loan rate, new SME loans",
        "%",
        0.0625,
        0.0725,
        "6.75%",
        0.0675,
        "Xinhua 2019: new small/micro loans, all banks (#49)",
        _loan_rate("sme", new=True),
        "the model's SMEs include medium firms (revenue < 400 m yuan), which borrow cheaper than the "
        "small and micro firms of the 6.75% figure",
    ),
    Target(
        "energy_share_steel",
        "calibration",
        "Energy cost share of costs: steel",
        "%",
        0.25,
        0.40,
        "25-40%",
        0.30,
        "worldsteel (weak, #17); calibration-research.md section 5",
        lambda r: cost_share(r, "steel", False),
        "sectors.toml sets 25% of revenue at the start; the energy-intensity frontier falls 2%/yr, so the "
        "share drifts to ~23% of costs",
    ),
    Target(
        "energy_share_nonferrous",
        "calibration",
        "Energy cost share of costs: non-ferrous metals",
        "%",
        0.045,
        0.075,
        "5.5-7% (derived)",
        0.062,
        "derived from CEC 2019 electricity use, SMM 2019 output and prices, AlCircle (#14); "
        "calibration-research.md section 5",
        lambda r: cost_share(r, "nonferrous", False),
        "the sector is all of non-ferrous smelting and rolling (5.34 trn yuan); electrolytic aluminium, whose "
        "power is 40-50% of its cost (#14), is a tenth of it (sectors.nonferrous.rules_share), so the sector "
        "spends ~6% of its revenue on energy; the model's firms share one cost structure, so the smelters' "
        "own share is not represented",
    ),
    Target(
        "electricity_share_cement",
        "calibration",
        "Electricity share of costs: cement",
        "%",
        0.20,
        0.30,
        "~25%",
        0.25,
        "China Cement Association, 2011 (#16)",
        lambda r: cost_share(r, "cement", True),
        "sectors.toml: energy share 0.33 x electricity share 0.35 gives ~13% of costs; the rest of "
        "cement's energy is coal",
    ),
    Target(
        "entry_rate",
        "calibration",
        "Entry rate (entrants / firms, per year)",
        "%",
        0.03,
        0.15,
        "~9% (weak)",
        0.09,
        "bounds (docs/validation.md, entry and exit): the flat stock of above-size firms 2015-19 (NBS via "
        "Li Yongjun 2020) makes entry about exit plus the net change; exit's bounds below",
        lambda r: _rate(r, ("entries",)),
        "no gross entry rate of above-size firms after 2007 was found; the ASIF's of 1998-2007 (~30%: a "
        "thesis, weak) came under a 5 m yuan threshold with the stock doubling and count firms growing "
        "across it, which the model does not",
    ),
    Target(
        "exit_rate",
        "calibration",
        "Exit rate (exits / firms, per year)",
        "%",
        0.03,
        0.13,
        "~8% (weak)",
        0.08,
        "bounds: all firms' death rate 6.2% in 2012, 9.3% in 2008, falling with size (SAIC 2013 via "
        "Xinhua); the ASIF's gross exit ~21% in 1998-2007, firms falling below the threshold included "
        "(a thesis, weak)",
        lambda r: _rate(r, ("exits_bankruptcy", "exits_voluntary", "exits_forced")),
        "above-size firms are the largest ~11% of industrial firms (NBS 2018 census: 3.45 m in all), so "
        "their deaths are below all firms' 6-9%; the ASIF's gross rate is an upper bound",
    ),
    Target(
        "firm_count_change",
        "calibration",
        "Net change of the number of firms (per year)",
        "%",
        -0.015,
        0.035,
        "-1.5% to +3.5%",
        0.01,
        "NBS via Li Yongjun (2020): 372,800 above-size firms at end-2019, 5,600 fewer than in 2018; the "
        "stock rose every year in 2012-17, by 13,100 in 2015; 21st Century Business Herald (2018): "
        "378,440 in November 2018, 5,753 fewer than a year before",
        firm_count_growth,
        "the stock moved within these bounds in 2015-19; NBS puts part of the 2017-19 falls down to "
        "statistical clean-up and the 2018 census check",
    ),
    Target(
        "productivity_gap",
        "calibration",
        "Productivity dispersion within sectors: log 90-10 gap",
        "1",
        1.2,
        2.0,
        "1.59 (TFPR, 2005)",
        1.59,
        "Hsieh and Klenow (QJE 2009), table of TFPR dispersion: China 1.87 (1998), 1.59 (2005); US 1.19",
        _prod_gap,
        "productivity_dispersion (sd 0.35 of log productivity) gives a 90-10 gap of ~0.9; the model's "
        "productivity scales labour and services costs only, not TFP",
    ),
)
