"""Structure-of-arrays containers: one row per firm (or bank), preallocated, written in place.

An exited firm is flagged (alive = False) and its row can be reused by an entrant. Rebinding an
array attribute after construction is an error, so a kernel's `out` array is always the model's;
the one exception is `grow`, which adds rows when entrants find none free (so no caller may keep
a firm array across a month's entry step).

Kernels take the arrays as one bundle, `Firms.bundle()` (typed as the `FirmState` named tuple,
`TypedBundle`: inside a kernel a field is `firms.cash[i]`), built once and rebuilt when `grow`
replaces the arrays. A parallel kernel binds every array it writes to a local before its `prange`
loop (`cash = firms.cash`): numba 0.68 silently drops a write through a tuple's attribute inside
the loop (`firms.cash[i] = x`; numba issues 5872, 7135, 10338). Named tuples measured best
(benchmarks/bundles.py, RESULTS.md).
"""

from __future__ import annotations

import operator
from collections import namedtuple

import numba
import numpy as np
from numba.extending import typeof_impl

from ._memory import mapped_zeros, mapping, release_pages, remapped

# name: (dtype, units (pint-parseable, sim.units.registry), meaning): the one declaration the state
# containers, the panel's variables (sim.panel) and docs/state-reference.md are made from
FIRM_FIELDS: dict[str, tuple[type, str, str]] = {
    "alive": (np.bool_, "1", "row holds an active firm"),
    "firm_id": (np.int32, "1", "the firm's number, in order of entry (a row is reused by entrants after an exit)"),
    "sector": (np.int8, "1", "sector index"),
    "soe": (np.bool_, "1", "state-owned"),
    "sme": (np.bool_, "1", "small or medium enterprise (derived from revenue each month)"),
    "age": (np.int16, "month", "months since entry (the int16 counter holds 2,730 years)"),
    "capacity": (np.float64, "yuan/month", "productive capacity, yuan of output per month at 2019 prices"),
    "pipeline": (np.float64, "yuan/month", "capacity under construction, yuan/month at 2019 prices"),
    "pipeline_cost": (np.float64, "yuan",
                      "construction spending still to pay on the capacity under construction, yuan"),
    "productivity": (np.float64, "1", "productivity index (1 = sector mean in 2019)"),
    "energy_intensity": (np.float64, "1", "energy intensity index (1 = sector mean in 2019)"),
    "upgrade_left": (np.int16, "month", "months until an upgrade under way completes (0 = none)"),
    "upgrade_productivity": (np.float64, "1", "productivity the upgrade under way delivers"),
    "upgrade_energy": (np.float64, "1", "energy intensity the upgrade under way delivers"),
    "share": (np.float64, "1", "market share in the sector (the shares of a sector sum to one after the market step; "
                          "entrants add theirs until the next)"),
    "share_prev": (np.float64, "1", "market share last month, held from the market step to the prices (steps 3-5); "
                               "between months its array holds `plan_expansion` (`SHARED_ARRAYS`)"),
    "orders": (np.float64, "yuan/month", "orders received, yuan/month at 2019 prices, held from the market step to "
                                     "the plans (steps 3-7); between months its array holds the credit "
                                     "scratch's `granted` (`SCRATCH_IN_FIRM_ARRAYS`; the records keep the "
                                     "sectors' orders)"),
    "output": (np.float64, "yuan/month", "output, yuan/month at 2019 prices"),
    "unfilled": (np.float64, "1", "share of orders not filled"),
    "expected": (np.float64, "yuan/month", "expected orders, yuan/month at 2019 prices"),
    "price": (np.float64, "1", "posted ex-VAT price index"),
    "markup": (np.float64, "1", "markup over unit cost"),
    "revenue": (np.float64, "yuan/month", "sales ex-VAT, yuan/month"),
    "cash": (np.float64, "yuan", "deposits, yuan"),
    "capital": (np.float64, "yuan", "fixed capital at book value, yuan"),
    "other_assets": (np.float64, "yuan", "receivables and inventories, yuan (constant)"),
    "other_liab": (np.float64, "yuan", "trade credit and other non-interest liabilities, yuan (constant)"),
    "loans": (np.float64, "yuan", "bank loans, yuan"),
    "loan_rate": (np.float64, "1/year", "average interest rate on the firm's loans, 1/yr"),
    "bank": (np.int32, "1", "index of the firm's bank (lender and deposit bank)"),
    "guaranteed": (np.float64, "yuan", "part of the firm's loans covered by the guarantee fund, yuan"),
    "pd": (np.float64, "1/year", "probability of default banks assign to the firm, 1/yr, held from the income "
                             "pass to the credit step (steps 6-7); between months its array holds `net_worth` "
                             "(`SHARED_ARRAYS`)"),
    "net_worth": (np.float64, "yuan", "net worth, yuan: every row's, as the investment step stores it (in `pd`'s "
                                  "array: `SHARED_ARRAYS`)"),
    "profit": (np.float64, "yuan/month", "net profit after tax this month, yuan"),
    "profit_year": (np.float64, "yuan", "net profit over about the last 12 months, yuan: an exponentially weighted sum "
                                "(x <- 11/12 x + profit each month; 12 x the monthly profit when it is steady)"),
    "cost_wedge": (np.float64, "yuan/yuan",
                   "the firm's own cost beyond its sector's unit cost, yuan per yuan of output: "
                   "overheads and inefficiency its posted price does not pass on (redrawn by lumpy "
                   "cost shocks)"),
    "order_shock": (np.float64, "1", "log deviation of the firm's orders from what its competitiveness alone would "
                                "give: large orders won and lost (lumpy jumps that decay)"),
    "customer_base": (np.float64, "1",
                      "the firm's customer base b, share: with the partial adjustment of shares "
                      "(behaviour.share_level_adjustment) shares move toward b E e^x / sum b E e^x "
                      "(kernels.market); set at the firm's first market step to the share it holds "
                      "then over its E e^x, fixed after (0: not set yet)"),
    "leverage_target": (np.float64, "1", "the firm's own target of loans and other liabilities over assets, share: its "
                                    "opening ratio (entrants: drawn from the same spread), which it borrows "
                                    "back towards at its yearly credit review"),
    "loss_months": (np.int16, "month", "consecutive months with a net loss"),
    "weak_months": (np.int16, "month",
                    "consecutive months in which the firm had loans and its net profit over about the "
                    "last 12 months (profit_year, after interest) was negative: interest coverage "
                    "below one (the OECD zombie definition, kernels.exit_entry)"),
    "exit_reason": (np.int8, "1", "0 alive or never used, 1 bankruptcy, 2 forced, 3 voluntary"),
    "court": (np.int16, "month",
              "months since the firm defaulted while its estate is in the court procedure (0: none); "
              "such a row is not alive, and its remaining loan stays on its banks' books until the "
              "estate is liquidated"),
    "plan_expansion": (np.float64, "yuan/month", "capacity the firm asks to build this month (in `share_prev`'s array: "
                                             "`SHARED_ARRAYS`)"),
    "plan_upgrade": (np.float64, "yuan", "gross cost of the upgrade the firm plans this month, yuan"),
}

# firm fields kept in another field's array (field: the field whose array it takes), 8 bytes a row less
# each: every kernel that writes either writes it for every row before any reads it, and the month's
# readers of one are done before the other is written again, so neither is read where the other's
# value lies. `share_prev` lives within steps 3-5 (the market step writes it, the prices read it),
# the plans within steps 7-8 (`plan_investment` to `execute_investment`); `pd` from the income pass
# (step 6) to the credit step (7), net worth from the investment step (8) to the records (11). (An
# entrant's row takes `net_worth`, not the zero of a `pd` read only after the next income pass.)
SHARED_ARRAYS: dict[str, str] = {"plan_expansion": "share_prev", "net_worth": "pd"}

# a scratch field kept in a firm field's array when the scratch is made with the firms (`Scratch(n,
# firms)`, as the model makes it; field: the firm field), on the same terms: the credit step writes
# every row's `granted`, which lives until the records (steps 7-11), and the market step every row's
# `orders`, read by the market and the plans (steps 3-7, `plan_investment`). (An entrant's row keeps
# the scratch's value, which the records read: its orders are the market step's, and its expected
# orders are written, `kernels.tables.write_entrants`.)
SCRATCH_IN_FIRM_ARRAYS: dict[str, str] = {"granted": "orders"}

# the fields whose array holds another's value between months (field: the one it holds then), so a
# reader of the state after a step (the panel, a notebook) must not take them for their own values
HELD_BY_OTHERS_BETWEEN_MONTHS: dict[str, str] = {
    host: guest for guest, host in (SHARED_ARRAYS | SCRATCH_IN_FIRM_ARRAYS).items()}

BANK_FIELDS: dict[str, tuple[type, str, str]] = {
    "alive": (np.bool_, "1", "bank operates (a merged bank is closed)"),
    "equity": (np.float64, "yuan", "equity, yuan (economy-wide)"),
    "loans": (np.float64, "yuan", "loans on the bank's books, yuan (economy-wide), updated by flows"),
    "loans_sme": (np.float64, "yuan", "loans to SMEs, yuan (economy-wide)"),
    "loans_large": (np.float64, "yuan", "loans to large firms, yuan (economy-wide)"),
    "loans_sme_year_ago": (np.float64, "yuan", "loans to SMEs twelve months ago, yuan"),
    "deposits": (np.float64, "yuan", "firm deposits, yuan (economy-wide)"),
    "rwa": (np.float64, "yuan", "risk-weighted assets, yuan (economy-wide)"),
    "npl": (np.float64, "yuan", "non-performing loans (substandard, doubtful and loss), yuan (economy-wide)"),
    "loans_special": (np.float64, "yuan", "loans classified special mention, yuan (economy-wide)"),
    "loans_substandard": (np.float64, "yuan", "loans classified substandard, yuan (economy-wide)"),
    "loans_doubtful": (np.float64, "yuan", "loans classified doubtful, yuan (economy-wide)"),
    "loans_loss": (np.float64, "yuan", "loans classified loss, yuan (economy-wide)"),
    "provisions": (np.float64, "yuan", "loan-loss provisions, yuan (economy-wide)"),
    "guaranteed": (np.float64, "yuan", "guarantee-covered exposure, yuan (economy-wide)"),
    "capital_ratio": (np.float64, "1", "capital adequacy ratio: equity over risk-weighted assets"),
    "margin": (np.float64, "1/year", "lending margin over the policy rate, 1/yr"),
    "profit": (np.float64, "yuan/month", "net profit this month, yuan"),
    "room": (np.float64, "yuan", "lending room under the capital constraint this month, yuan of risk-weighted assets"),
    "failures": (np.int64, "1", "times the bank failed and was resolved"),
}

# per-row scratch of the credit step: written by its kernels each month, read by the records. What
# only applicants need (their rows, request, limit, guarantee fee and the rate of their new loan) is
# kept per applicant instead, in arrays the credit kernels return (`credit.repay_and_apply`,
# `credit_allocation.allocate_credit_drawn`); the month's applicants, their new rates and their renewals
# stay on the scratch (`Scratch.applicants`, `applicant_rate`, `applicant_renewed`) for the records
SCRATCH_FIELDS: dict[str, tuple[type, str, str]] = {
    "granted": (np.float64, "yuan", "new credit granted this month, yuan (per model firm); before the allocation, "
                            "`repay_and_apply`'s staging of the applicants' requests (zero again after it); "
                            "negative: no loan but the instalment renewed of a firm that asked for no credit "
                            "(`credit.lent`, `credit.renewed`); in the firms' `orders` array in the model "
                            "(`SCRATCH_IN_FIRM_ARRAYS`)"),
    "repaid": (np.float64, "yuan", "instalment due this month and debt paid down toward the leverage target at the "
                           "yearly review, yuan (before the credit step: the month's per-row uniforms, "
                           "`rng.DrawPool`)"),
    "rolled": (np.bool_, "1", "the instalment was rolled over (renewed by the firm's banks); the amount is minus "
                          "`granted` where that is negative, else (an applicant) `repaid` in the credit step and "
                          "`Scratch.applicant_renewed` after it (`credit.renewed`)"),
    "denied": (np.bool_, "1", "the firm asked for credit and got none (before the allocation, `repay_and_apply`'s "
                          "staging of a non-positive net worth, which leaves an applicant no limit)"),
}

# the model's per-sector tables the kernels read (attributes of the model of the same names)
SECTOR_FIELDS: dict[str, tuple[type, str, str]] = {
    "util_target": (np.float64, "1", "capacity utilisation in 2019 (the set-up's output / capacity), share"),
    "util_normal": (np.float64, "1", "normal capacity utilisation firms plan for, share"),
    "growth": (np.float64, "1/year", "trend growth of final demand, 1/yr"),
    "growth_expected": (np.float64, "1/year", "growth of the sector's orders its firms expect, 1/yr (learned)"),
    "dep_month": (np.float64, "1/month", "depreciation of capacity, 1/month"),
    "lag": (np.int64, "month", "build lag of new capacity, months"),
    "frontier_a": (np.float64, "1", "productivity frontier (1 = sector mean in 2019)"),
    "frontier_ei": (np.float64, "1", "energy-intensity frontier (1 = sector mean in 2019)"),
    "weight": (np.float64, "firm/firm", "real firms per model firm"),
}

EXIT_BANKRUPTCY, EXIT_FORCED, EXIT_VOLUNTARY = 1, 2, 3


# the kernels' view of the state: one named tuple of the arrays, fields in the tables' order
FirmState = namedtuple("FirmState", tuple(FIRM_FIELDS))
BankState = namedtuple("BankState", tuple(BANK_FIELDS))
ScratchState = namedtuple("ScratchState", tuple(SCRATCH_FIELDS))
# the month's credit for the records: the scratch's rows, and the applicants' rows, new rates and renewals
CreditBooks = namedtuple("CreditBooks", ("granted", "denied", "applicants", "new_rate", "renewed"))
SectorTables = namedtuple("SectorTables", tuple(SECTOR_FIELDS))


_sector_fields = operator.attrgetter(*SECTOR_FIELDS)


class TypedBundle(tuple):
    """A state bundle as the kernels take it: the arrays of a named tuple of `state` (FirmState,
    BankState, ScratchState), its fields by name as the named tuple's, that carries the numba type
    of that named tuple (`_numba_type_`), so that a kernel call types it without looking at it.

    numba types a named tuple at every call by its fingerprint, the class's and every field's name
    encoded and hashed with each array's type (FirmState: about 1 kB), which cost more than
    unboxing its 45 arrays: a call of a kernel reading one field of FirmState took 7.8 us, 3.8 with
    this bundle (benchmarks/RESULTS.md, "The step's own Python"). A tuple that is not a named tuple
    (no `_asdict`) has no fingerprint, and numba's dispatcher then takes the type the value carries,
    `_numba_type_`; Python's typeof (a kernel's first call, when it compiles) reads it too. The type
    is the named tuple's own, so the kernels' signatures and their cache are those of the named
    tuples. It is taken from numba's typeof of the named tuple, once for each set of array types."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _named: type = tuple  # the named tuple whose type the bundle carries

    def __reduce__(self):
        return typed_bundle, (self._named, tuple(self))


_TYPED_CLASSES: dict[type, type] = {}
_TYPES: dict[tuple, object] = {}


def typed_bundle(named: type, arrays) -> TypedBundle:
    """The arrays as a `TypedBundle` of the named tuple class `named` (each must be a numpy array:
    the type is known from their dtypes, dimensions, layouts and write flags)."""
    cls = _TYPED_CLASSES.get(named)
    if cls is None:
        fields = {name: property(operator.itemgetter(i)) for i, name in enumerate(named._fields)}
        cls = _TYPED_CLASSES[named] = type(named.__name__, (TypedBundle,), {
            "_fields": named._fields, "_named": named, **fields})  # (instances hold _numba_type_)
    bundle = cls(arrays)
    key = (named,) + tuple((type(a), a.dtype, a.ndim, a.flags.c_contiguous, a.flags.f_contiguous, a.flags.writeable)
                           for a in bundle)
    typ = _TYPES.get(key)
    if typ is None:
        typ = _TYPES[key] = numba.typeof(named(*bundle))
    bundle._numba_type_ = typ
    return bundle


@typeof_impl.register(TypedBundle)
def _typeof_typed_bundle(val, c):
    return val._numba_type_


def sector_tables(model) -> SectorTables:
    """The model's sector tables as one bundle, made at each call (one attrgetter: well under a
    microsecond, and never stale should the model rebind a table)."""
    return SectorTables._make(_sector_fields(model))


LINE, PAGE = 64, 4096


def staggered_zeros(n_rows: int, shapes: dict[str, tuple[type, tuple[int, ...]]], first_slot: int = 0
                    ) -> dict[str, np.ndarray]:
    """Zeroed arrays of n_rows rows (each with its dtype and trailing shape), array j starting
    j + first_slot cache lines past a page boundary.

    Separately allocated large arrays all start at the same offset within a page, so a kernel
    that reads row i of twenty-odd of them hits the same cache set twenty-odd times: more streams
    than the cache has ways. Measured: a kernel over 5.25 million rows took 190 ms instead of 48.
    Staggering the starts by a cache line each spreads the streams over the sets (64 lines a page,
    so up to 64 arrays never share one). Each array keeps its own allocation (so a freed one is
    reused by the allocator) with up to a page of slack in front."""
    return {name: staggered_zero(n_rows, dtype, tail, j + first_slot)
            for j, (name, (dtype, tail)) in enumerate(shapes.items())}


def staggered_zero(n_rows: int, dtype: type, tail: tuple[int, ...], slot: int) -> np.ndarray:
    """One zeroed array of n_rows rows starting `slot` cache lines past a page boundary: in a
    mapping of its own when large (`_memory.mapped_zeros`, so that `SoA.grow` can extend it in
    place), else in numpy's heap."""
    nbytes = n_rows * int(np.prod(tail, dtype=np.int64)) * np.dtype(dtype).itemsize
    off = (slot % (PAGE // LINE)) * LINE
    buf = mapped_zeros(off + nbytes)
    if buf is None:
        buf = np.zeros(nbytes + PAGE, dtype=np.uint8)
        off = (off - buf.ctypes.data) % PAGE
    return _rows(buf, off, n_rows, dtype, tail)


def _rows(buf: np.ndarray, off: int, n_rows: int, dtype: type, tail: tuple[int, ...]) -> np.ndarray:
    """n_rows rows of dtype and trailing shape `tail` in the bytes buf[off:]."""
    shape = (n_rows,) + tuple(tail)
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return buf[off:off + nbytes].view(dtype).reshape(shape)


def staggered_grown(old: np.ndarray, n_rows: int, slot: int) -> np.ndarray:
    """A copy of `old` with n_rows rows (the new ones zero), allocated as `staggered_zero`."""
    new = staggered_zero(n_rows, old.dtype, old.shape[1:], slot)
    new[:old.shape[0]] = old
    return new


class SoA:
    """Preallocated arrays as attributes; the set of arrays is fixed after construction. Each array
    starts on its own cache line within a page (`staggered_zeros`). A field of `_shared` has no array
    of its own: its attribute is the array of the field it names, of `_host()` (`SHARED_ARRAYS`)."""

    _fields: dict[str, tuple[type, str]] = {}
    _shared: dict[str, str] = {}
    _bundle_type: type | None = None
    _first_slot = 0

    def __init__(self, n_rows: int):
        object.__setattr__(self, "n_rows", int(n_rows))
        self._allocate(int(n_rows))

    def stored(self) -> tuple[str, ...]:
        """The fields with an array of their own (all but `_shared`'s), in the table's order."""
        return tuple(name for name in self._fields if name not in self._shared)

    def _allocate(self, n_rows: int) -> None:
        arrays = staggered_zeros(n_rows, {name: (self._fields[name][0], ()) for name in self.stored()},
                                 self._first_slot)
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        self._bind_shared()
        object.__setattr__(self, "_bundle", None)

    def _host(self) -> SoA:
        """The container whose arrays the fields of `_shared` take."""
        return self

    def unbind_shared(self) -> None:
        """Let go of the arrays of the fields of `_shared` (and of the bundle), until `grow` binds them
        again: the model's scratch does so before the firms grow, so that the `orders` array its
        `granted` views can be extended in place (`_grown`) rather than copied."""
        object.__setattr__(self, "_bundle", None)
        for name in self._shared:
            self.__dict__.pop(name, None)

    def _bind_shared(self) -> None:
        host = self._host()
        for name, field in self._shared.items():
            object.__setattr__(self, name, getattr(host, field))

    def bundle(self):
        """The arrays as one bundle for the kernels (`_bundle_type`'s fields, as a `TypedBundle`): the
        same object until `grow` replaces the arrays, so a caller must not keep it across a month's
        entry step."""
        if self._bundle is None:
            arrays = [getattr(self, name) for name in self._fields]
            object.__setattr__(self, "_bundle", typed_bundle(self._bundle_type, arrays))
        return self._bundle

    def __setattr__(self, name: str, value) -> None:
        if name in self._fields:
            raise AttributeError(f"{type(self).__name__}.{name} is preallocated; write in place ([:] = ...)")
        object.__setattr__(self, name, value)

    def set_rows(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Every field of the given rows: values[name][k] into row rows[k] for the fields named (a
        scalar: into every row; cast to the field's dtype as `astype` casts), zero for the others
        (an entrant starts from an empty row, not from the leftovers of the firm that exited there).
        Of two fields sharing an array (`_shared`), the one named is written; naming both is an error.

        numpy's indexed assignment, one per field: a month's entrants are few (tens at 2,000 firms,
        a few thousand at 1:1), and a parallel kernel per dtype cost a parallel region per field and
        the unboxing of tuples of arrays (2,205 rows, 20 entrants: 246 us a call against 20; 437,583
        rows, 3,000 entrants: 777 us against 526; one thread, benchmarks/RESULTS.md). Entry writes its
        entrants with one compiled call instead (`kernels.tables.write_entrants`, checked against this)."""
        unknown = set(values) - set(self._fields)
        if unknown:
            raise KeyError(f"no such fields: {sorted(unknown)}")
        both = [pair for pair in self._shared.items() if set(pair) <= set(values)]
        if both:
            raise ValueError(f"fields sharing an array given together: {both}")
        mate = self._shared | {host: name for name, host in self._shared.items()}
        rows = np.asarray(rows, dtype=np.int64)
        for name in self._fields:
            if name in values or mate.get(name) not in values:
                getattr(self, name)[rows] = values.get(name, 0)

    def grow(self, extra: int) -> None:
        """Add `extra` empty rows (zeros) at the end.

        An array in a mapping of its own (`_memory.mapped_zeros`: the large ones) is extended in
        place (`_memory.remapped`): nothing is copied and only the new rows' pages are new. Any other
        array, or one something else still views (its data may not move), is reallocated and copied,
        one at a time, so that the memory of the old ones is free for the next (the peak is the
        state plus about one array, not twice the state).

        The heap is not trimmed here (it was while the state lived in it, whose copies left the
        month's temporaries beside a larger state): with the large arrays in mappings of their own
        a trim only made the next month fault its temporaries in again (1:1 decade: the same peak
        without it, benchmarks/RESULTS.md)."""
        n = self.n_rows + int(extra)
        object.__setattr__(self, "_bundle", None)  # it holds the old arrays: drop it first, so each is freed in turn
        self.unbind_shared()  # (each old array is then held by its own field alone)
        for j, name in enumerate(self.stored()):
            object.__setattr__(self, name, self._grown(name, n, j + self._first_slot))
        self._bind_shared()
        object.__setattr__(self, "n_rows", n)

    def _grown(self, name: str, n_rows: int, slot: int) -> np.ndarray:
        """Field `name` with n_rows rows: its mapping extended, or a copy (`grow`)."""
        old = getattr(self, name)
        mm = mapping(old)
        if mm is None:
            new = staggered_grown(old, n_rows, slot)
            release_pages(old)  # its pages go now, not at the next trim (unless something else holds it)
            return new
        dtype, tail, n_old, off = old.dtype, old.shape[1:], old.shape[0], old.ctypes.data % PAGE
        row = old.nbytes // max(n_old, 1)
        object.__setattr__(self, name, None)
        del old  # the mapping's views left are those something else holds
        buf = remapped(mm, off + n_rows * row)
        if buf is not None:
            return _rows(buf, off, n_rows, dtype, tail)
        return staggered_grown(_rows(np.frombuffer(mm, dtype=np.uint8), off, n_old, dtype, tail), n_rows, slot)

    def nbytes_per_row(self) -> int:
        return sum(np.dtype(self._fields[name][0]).itemsize for name in self.stored())


class Firms(SoA):
    _fields = FIRM_FIELDS
    _shared = SHARED_ARRAYS
    _bundle_type = FirmState


class Banks(SoA):
    _fields = BANK_FIELDS
    _bundle_type = BankState


class Scratch(SoA):
    """Per-row scratch of the credit step, one row per firm row (grows with the firms, after them), its
    arrays staggered after the firm arrays'. Made with the firms, its `granted` is in their `orders`'
    array (`SCRATCH_IN_FIRM_ARRAYS`)."""

    _fields = SCRATCH_FIELDS
    _bundle_type = ScratchState
    _first_slot = len(FIRM_FIELDS)

    def __init__(self, n_rows: int, firms: Firms | None = None):
        object.__setattr__(self, "_firms", firms)
        object.__setattr__(self, "_shared", {} if firms is None else SCRATCH_IN_FIRM_ARRAYS)
        super().__init__(n_rows)
        self.set_applicants(np.zeros(0, dtype=np.int32), np.zeros(0))
        self.grown = False  # the rows grew since the last credit step (`phases.credit.credit_market`)

    def _host(self) -> SoA:
        return self._firms

    def grow(self, extra: int) -> None:
        super().grow(extra)
        self.grown = True

    def set_applicants(self, rows: np.ndarray, new_rate: np.ndarray, renewed: np.ndarray | None = None) -> None:
        """The month's applicants (their rows, ascending), the interest rate of the loan each was
        granted (0: none), 1/yr, and the instalment its banks renewed (yuan; `credit.renewed`; None:
        none): kept per applicant, not per row (a few percent of the rows apply)."""
        self.applicants, self.applicant_rate = rows, new_rate
        self.applicant_renewed = np.zeros(len(rows)) if renewed is None else renewed

    def lent(self) -> np.ndarray:
        """The new credit granted this month by row, yuan (`granted` without the renewals it keeps for
        the rows that asked for none: `credit.lent`)."""
        return np.maximum(self.granted, 0.0)

    def books(self) -> CreditBooks:
        """The month's credit as the records read it (`accounting.month_sums`)."""
        return CreditBooks(self.granted, self.denied, self.applicants, self.applicant_rate, self.applicant_renewed)

