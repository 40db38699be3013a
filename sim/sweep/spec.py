"""Sweep files: schema, loading, key-path overrides and the resolved plan of runs.

A sweep file names one or more base scenarios, the axes to vary (a grid of values per key path, or
a sampled design over bounds), the seeds, run overrides and the outputs to keep. It is validated
like a scenario file: unknown keys, wrong types and bad values stop with a `ScenarioError` naming
the sweep file and the key (`grid.0.values.2`, `sample.params.1.bounds`, ...). Types are strict:
no value is converted (a boolean is not a number, a string is not a number, 2.0 is not an
integer; an integer is a number), non-finite numbers are refused, and a key is swept by one axis
or parameter only (also no key and a key inside it, as `policy.upgrade_subsidy` and
`policy.upgrade_subsidy.steel`).

The plan (`Sweep`) turns the file into leading dimensions (`scenario` when `base` is a list, one
dimension per grid axis or `sample`, then `seed`) and, for each run, its flat index, its base
scenario and its key-path overrides. Scenarios are checked here one axis value at a time; a
combination of values that is invalid only jointly is found by the worker and recorded as a
failed run with its message.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..scenario import Scenario, ScenarioError, load_scenario, scenario_toml
from ..scenario.load import read_toml
from ..scenario.schema import SECTORS, Policy

# what a sweep keeps when the file does not say (small enough for 10,000 runs)
DEFAULT_OUTPUTS = (
    "output", "capacity", "utilization", "price_index_tax_inclusive", "value_added", "profit",
    "employment", "energy_use", "vat_revenue", "n_firms", "entries", "exits_bankruptcy",
    "productivity_mean", "energy_intensity_mean", "upgrades", "investment", "credit", "loan_rate",
    "bankruptcies", "credit_guaranteed", "gdp", "credit_total", "gov_balance", "tax_revenue", "npl_ratio",
    "bank_capital_ratio", "guarantee_payouts", "sfc_error",
)
RESERVED_DIMS = ("scenario", "sample", "seed", "time", "sector", "size_class", "index", "param")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Value = bool | int | float | str


# --------------------------------------------------------------------------------------------
# key paths: "policy.vat_rate", "sectors.steel.price_elasticity", 'schedule."2019-04".vat_rate'
# --------------------------------------------------------------------------------------------
def parse_key(path: str) -> tuple[str, ...]:
    """Split a dotted key path; segments may be quoted ("2019-04") as in TOML."""
    parts: list[str] = []
    i, n = 0, len(path)
    if not path.strip():
        raise ValueError("empty key path")
    while i < n:
        if path[i] in "\"'":
            j = path.find(path[i], i + 1)
            if j < 0:
                raise ValueError(f"unclosed quote in key path {path!r}")
            parts.append(path[i + 1:j])
            i = j + 1
        else:
            j = path.find(".", i)
            j = n if j < 0 else j
            seg = path[i:j].strip()
            if not seg:
                raise ValueError(f"empty segment in key path {path!r}")
            parts.append(seg)
            i = j
        if i < n:
            if path[i] != ".":
                raise ValueError(f"expected '.' after a quoted segment in key path {path!r}")
            i += 1
            if i == n:
                raise ValueError(f"key path {path!r} ends with '.'")
    return tuple(parts)


def set_key(doc: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    """Set a nested value in a scenario dump (`Scenario.model_dump()`), in place.

    A missing schedule month is created; a per-sector instrument that holds one number for all
    sectors is expanded to a table when a sector is named (`policy.upgrade_subsidy.steel`).
    Raises KeyError naming the first segment that does not exist.
    """
    node: Any = doc
    for depth, p in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[:depth]) or "the scenario"
        if depth == 1 and parts[0] == "schedule":
            from ..scenario.schema import _to_month

            try:
                p = _to_month(p)
            except ValueError as e:
                raise KeyError(str(e)) from None
            if p not in node:
                node[p] = {}
        elif depth == 2 and parts[0] == "schedule" and p not in node:
            if p not in Policy.model_fields:
                raise KeyError(f"no instrument {p!r} in {where} (see docs/scenario-reference.md)")
            node[p] = None
        elif not isinstance(node, dict) or p not in node:
            is_sector_table = (depth >= 2 and parts[depth - 1] in Policy.model_fields
                               and parts[0] in ("policy", "schedule"))
            if is_sector_table and p in SECTORS:
                if node is None:  # not set in this schedule month: a change of the named sectors only,
                    node = {}     # the others keep the value in force that month, as in a file
                if not isinstance(node, dict):  # one number for all sectors: make it a table
                    node = {s: node for s in SECTORS}
                _get(doc, parts[:depth - 1])[parts[depth - 1]] = node
                # a partial table (e.g. capacity_cap = {nonferrous = 45}) gains the sector
            else:
                known = ", ".join(sorted(map(str, node))) if isinstance(node, dict) else "none (a value)"
                raise KeyError(f"no key {p!r} in {where} (known: {known})")
        if last:
            node[p] = value
        else:
            node = node[p]


def _get(doc: dict[str, Any], parts: tuple[str, ...]) -> Any:
    node: Any = doc
    for p in parts:
        node = node[p]
    return node


def get_key(doc: dict[str, Any], parts: tuple[str, ...]) -> Any:
    """The value a key path has in a dump, or None where it is not set (new schedule month)."""
    try:
        node: Any = doc
        for p in parts:
            if not isinstance(node, dict):
                return node  # one number for all sectors
            node = node[p]
        return node
    except KeyError:
        return None


def apply_overrides(base: dict[str, Any], overrides: list[tuple[tuple[str, ...], Any]]) -> Scenario:
    """A validated Scenario: the base dump with each (key path, value) set."""
    doc = copy.deepcopy(base)
    for parts, value in overrides:
        set_key(doc, parts, value)
    return Scenario.model_validate(doc)


def first_error(e: ValidationError) -> str:
    """One readable line from a pydantic error: the key path and the message."""
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in (
        "float", "int", "bool", "str", "constrained-float", "constrained-int"))))
    msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    if "input" in err and not isinstance(err["input"], dict) and err["type"] != "missing":
        msg += f" (got {err['input']!r})"
    return f"{loc}: {msg}" if loc else msg


def file_error(path: str | Path, e: ValidationError) -> ScenarioError:
    """The one error of a sweep or cluster file that failed its schema: the file, the key, the message."""
    def where(err: Any) -> str:
        return ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and (
            "[" in p or p in ("int", "str", "float", "bool", "list", "literal", "none"))))

    # the deepest: of a union's errors (`seeds = [1, true]`), the one that names the item
    err = max(e.errors(), key=lambda x: len(where(x).split(".")))
    loc = where(err)
    msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], dict | list) and err["type"] != "missing":
        msg += f" (got {err['input']!r})"
    return ScenarioError(path, loc or None, msg)


# --------------------------------------------------------------------------------------------
# schema of the sweep file
# --------------------------------------------------------------------------------------------
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # strict: `seeds = true` is not 1


KeyPaths = str | Annotated[list[str], Field(min_length=1)]


def _check_paths(v: str | list[str]) -> str | list[str]:
    for k in [v] if isinstance(v, str) else v:
        parse_key(k)
    return v


class GridAxis(Strict):
    key: KeyPaths = Field(description="Scenario key path(s) to set, e.g. \"policy.vat_rate\"; a list moves "
                                      "several keys together (same value).")
    values: Annotated[list[Value], Field(min_length=1)] = Field(description="Values, one point each.")
    name: str | None = Field(None, description="Dimension name (default: the last segment of the key).")

    _paths = field_validator("key")(_check_paths)

    @field_validator("values")
    @classmethod
    def _same_kind(cls, v: list[Value]) -> list[Value]:
        kinds = {"bool" if isinstance(x, bool) else "str" if isinstance(x, str) else "number" for x in v}
        if len(kinds) > 1:
            raise ValueError(f"values mix types ({', '.join(sorted(kinds))}); use one type per axis")
        if len(set(v)) != len(v):
            raise ValueError("values repeat")
        return v


class Param(Strict):
    key: KeyPaths = Field(description="Scenario key path(s) to set.")
    bounds: Annotated[list[float], Field(min_length=2, max_length=2)] = Field(description="Lower and upper bound.")
    name: str | None = Field(None, description="Parameter name (default: the last segment of the key).")

    _paths = field_validator("key")(_check_paths)

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, v: list[float]) -> list[float]:
        if not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"bounds must be finite with lower < upper (got {list(v)})")
        return v


class Sample(Strict):
    method: Literal["sobol", "morris", "latin"] = Field(
        description="sobol: Saltelli/Sobol' design (SALib), n a power of 2, n*(D+2) runs (n*(2D+2) with "
                    "second_order); morris: n trajectories, n*(D+1) runs; latin: n Latin-hypercube points "
                    "(scipy.stats.qmc).")
    n: int = Field(ge=1, le=1_000_000, description="Base sample size (see method).")
    seed: int = Field(0, ge=0, description="Seed of the design.")
    second_order: bool = Field(False, description="sobol: also second-order indices.")
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels.")
    params: Annotated[list[Param], Field(min_length=1)]

    @model_validator(mode="after")
    def _n(self) -> Sample:
        if self.method == "sobol" and (self.n & (self.n - 1)):
            raise ValueError(f"n: sobol needs a power of 2 (got {self.n})")
        if self.method == "morris" and len(self.params) < 2:
            raise ValueError("params: morris needs at least 2 parameters")
        return self


class RunOverrides(Strict):
    firms: int | None = Field(None, ge=200, le=20_000_000)
    months: int | None = Field(None, ge=1, le=1200)


class SweepFile(Strict):
    name: str | None = None
    description: str = ""
    base: str | Annotated[list[str], Field(min_length=1)] = Field(
        description="Base scenario file (relative to the sweep file); a list adds a `scenario` dimension.")
    seeds: int | Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] = Field(
        description="Number of seeds (0..n-1) or the list of seeds.")
    run: RunOverrides = Field(default_factory=RunOverrides)
    grid: list[GridAxis] = Field(default_factory=list)
    sample: Sample | None = None
    outputs: list[str] | Literal["all"] | None = None

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, int) and not 1 <= v <= 100_000:
            raise ValueError(f"must be between 1 and 100000 (got {v})")
        if isinstance(v, list) and len(set(v)) != len(v):
            raise ValueError("seeds repeat")
        return v

    @model_validator(mode="after")
    def _one_design(self) -> SweepFile:
        if self.grid and self.sample is not None:
            raise ValueError("give either [[grid]] axes or a [sample] design, not both")
        return self


# --------------------------------------------------------------------------------------------
# the resolved plan
# --------------------------------------------------------------------------------------------
@dataclass
class Axis:
    name: str
    keys: tuple[tuple[str, ...], ...]
    values: np.ndarray


@dataclass
class Sweep:
    """A validated sweep: leading dimensions, base scenarios, and the overrides of every run."""

    path: Path
    text: str
    spec: SweepFile
    name: str
    bases: list[Scenario]
    base_dumps: list[dict[str, Any]]
    seeds: np.ndarray
    axes: list[Axis]                       # grid axes (empty for a sampled design)
    params: list[Axis] = field(default_factory=list)   # sampled parameters (values over `sample`)
    design: np.ndarray | None = None      # (n_samples, n_params) for a sampled design
    outputs: tuple[str, ...] = ()
    fingerprint: str = ""

    # dimensions ---------------------------------------------------------------------------
    @property
    def multi_scenario(self) -> bool:
        return isinstance(self.spec.base, list)

    @property
    def lead_dims(self) -> tuple[str, ...]:
        dims: list[str] = ["scenario"] if self.multi_scenario else []
        dims += [a.name for a in self.axes] if self.design is None else ["sample"]
        return (*dims, "seed")

    @property
    def lead_shape(self) -> tuple[int, ...]:
        shape: list[int] = [len(self.bases)] if self.multi_scenario else []
        shape += [len(a.values) for a in self.axes] if self.design is None else [len(self.design)]
        return (*shape, len(self.seeds))

    @property
    def n_runs(self) -> int:
        return int(np.prod(self.lead_shape))

    def lead_coords(self) -> dict[str, np.ndarray]:
        c: dict[str, np.ndarray] = {}
        if self.multi_scenario:
            c["scenario"] = np.array([sc.name for sc in self.bases])
        if self.design is None:
            for a in self.axes:
                c[a.name] = a.values
        else:
            c["sample"] = np.arange(len(self.design))
        c["seed"] = self.seeds
        return c

    @property
    def time(self) -> np.ndarray:
        sc = self.bases[0]
        return (np.datetime64(sc.run.start, "M") + np.arange(sc.run.months)).astype("datetime64[ns]")

    # runs ---------------------------------------------------------------------------------
    def index(self, flat: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(flat, self.lead_shape))

    def run_of(self, flat: int) -> tuple[int, list[tuple[tuple[str, ...], Any]], int]:
        """(base index, overrides, seed) of the run at a flat index (C order over lead_dims)."""
        idx = list(self.index(flat))
        b = idx.pop(0) if self.multi_scenario else 0
        over: list[tuple[tuple[str, ...], Any]] = []
        if self.design is None:
            for a, i in zip(self.axes, idx[:-1], strict=True):
                over += [(k, a.values[i].item()) for k in a.keys]
        else:
            row = self.design[idx[0]]
            for p, x in zip(self.params, row, strict=True):
                over += [(k, _as_kind(x, self.base_dumps[b], k)) for k in p.keys]
        return b, over, int(self.seeds[idx[-1]])

    def design_attrs(self) -> dict[str, Any]:
        if self.spec.sample is None:
            return {"method": "grid"}
        s = self.spec.sample
        return {"method": s.method, "n": s.n, "seed": s.seed, "second_order": s.second_order,
                "levels": s.levels, "names": [p.name for p in self.params],
                "keys": [[".".join(k) for k in p.keys] for p in self.params],
                "bounds": [list(q.bounds) for q in s.params]}


def _as_kind(x: float, dump: dict[str, Any], parts: tuple[str, ...]) -> Any:
    """Sampled numbers keep the type of the key: integers are rounded."""
    cur = get_key(dump, parts)
    if isinstance(cur, int) and not isinstance(cur, bool):
        return int(round(float(x)))
    return float(x)


def _default_name(keys: tuple[tuple[str, ...], ...]) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", keys[0][-1])


def _design(s: Sample, params: list[Param], names: list[str]) -> np.ndarray:
    problem = {"num_vars": len(params), "names": names, "bounds": [list(p.bounds) for p in params]}
    if s.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, s.n, calc_second_order=s.second_order, seed=s.seed)
    if s.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, s.n, num_levels=s.levels, seed=s.seed)
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(params), rng=s.seed).random(s.n)
    return qmc.scale(u, [p.bounds[0] for p in params], [p.bounds[1] for p in params])


def _keys(v: str | list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(parse_key(k) for k in ([v] if isinstance(v, str) else v))


def _norm_key(parts: tuple[str, ...]) -> tuple[str, ...]:
    """A key path as set_key reads it (schedule months as "YYYY-MM"), to compare two of them."""
    if parts[0] == "schedule" and len(parts) > 1:
        from ..scenario.schema import _to_month

        try:
            return (parts[0], _to_month(parts[1]), *parts[2:])
        except ValueError:
            pass
    return parts


def _check_unique(path: Path, prefix: str, i: int, raw: str | list[str], keys: tuple[tuple[str, ...], ...],
                  seen: dict[tuple[str, ...], tuple[int, int, str]]) -> None:
    """Each key is swept by one axis (or parameter) only: else the later one silently wins."""
    texts = [raw] if isinstance(raw, str) else raw
    for m, (k, text) in enumerate(zip(keys, texts, strict=True)):
        here = f"{prefix}.{i}.key" + (f".{m}" if isinstance(raw, list) else "")
        kk = _norm_key(k)
        for other, (i0, m0, other_text) in seen.items():
            if kk[:len(other)] == other or other[:len(kk)] == kk:
                owner = f"{prefix}.{i0}" if i0 != i else f"{prefix}.{i}.key.{m0}"
                what = "is already swept by" if kk == other else f"overlaps {other_text}, swept by"
                raise ScenarioError(path, here, f"{text} {what} {owner}")
        seen[kk] = (i, m, text)


def _kind(x: Any) -> str | None:
    for t, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string")):
        if isinstance(x, t):
            return name
    return None


def _check_kinds(path: Path, kkey: str, vkey: str, raw: str | list[str], over: list[tuple[tuple[str, ...], Any]],
                 got: dict[str, Any], sampled: bool) -> None:
    """No conversion: each value keeps its kind in the validated scenario (an integer may be a number)."""
    texts = [raw] if isinstance(raw, str) else raw
    for (k, v), text in zip(over, texts, strict=True):
        cur = get_key(got, _norm_key(k))
        have, want = _kind(v), "a table" if isinstance(cur, dict) else _kind(cur)
        if sampled and want not in ("an integer", "a number", None):
            raise ScenarioError(path, kkey, f"{text} takes {want}; only numbers can be sampled")
        if want not in (None, "a table") and have != want and (have, want) != ("an integer", "a number"):
            raise ScenarioError(path, vkey, f"{text} takes {want}, not {have} (got {v!r})")


def load_sweep(path: str | Path | dict[str, Any]) -> Sweep:
    """Read and validate a sweep file, or a dict with a sweep file's contents (its `base` paths
    relative to the current folder); raises ScenarioError naming the file (`<dict>`) and the key."""
    if isinstance(path, dict):
        import tomli_w

        try:
            text = tomli_w.dumps(path)
        except (TypeError, ValueError) as e:
            raise ScenarioError("<dict>", None, f"not a sweep specification ({e})") from None
        path, raw = Path.cwd() / "<dict>", tomllib.loads(text)
    else:
        path = Path(path)
        text, raw = read_toml(path)
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as e:
        raise file_error(path, e) from None

    # base scenarios, with the run overrides
    files = [spec.base] if isinstance(spec.base, str) else spec.base
    bases: list[Scenario] = []
    for i, f in enumerate(files):
        key = "base" if isinstance(spec.base, str) else f"base.{i}"
        target = path.parent / f
        if not target.exists():
            raise ScenarioError(path, key, f"base scenario {f!r} not found (looked for {target})")
        bases.append(load_scenario(target, firms=spec.run.firms, months=spec.run.months))
    names = [sc.name for sc in bases]
    if len(set(names)) != len(names):
        raise ScenarioError(path, "base", f"base scenarios must have distinct names (got {names})")
    for i, sc in enumerate(bases[1:], 1):
        if (sc.run.start, sc.run.months) != (bases[0].run.start, bases[0].run.months):
            raise ScenarioError(path, f"base.{i}", "base scenarios must share run.start and run.months "
                                f"({sc.name}: {sc.run.start}, {sc.run.months} months; {bases[0].name}: "
                                f"{bases[0].run.start}, {bases[0].run.months} months); set [run] months")
    dumps = [sc.model_dump() for sc in bases]

    seeds = np.arange(spec.seeds, dtype=np.int64) if isinstance(spec.seeds, int) else np.array(spec.seeds,
                                                                                                 dtype=np.int64)

    # axes or sampled parameters: names, key paths that exist, values each valid on every base
    entries = spec.grid if spec.sample is None else spec.sample.params
    prefix = "grid" if spec.sample is None else "sample.params"
    axes: list[Axis] = []
    seen: dict[tuple[str, ...], tuple[int, int, str]] = {}
    for i, e in enumerate(entries):
        keys = _keys(e.key)
        _check_unique(path, prefix, i, e.key, keys, seen)
        name = e.name or _default_name(keys)
        if not _NAME_RE.match(name):
            raise ScenarioError(path, f"{prefix}.{i}.name",
                                f"{name!r} is not a valid name (letters, digits, _)")
        if name in RESERVED_DIMS or name in [a.name for a in axes]:
            raise ScenarioError(path, f"{prefix}.{i}.name", f"name {name!r} is taken; give the axis another "
                                "`name`")
        for k in keys:
            if k[0] == "run" and len(k) > 1 and k[1] in ("start", "months", "seed"):
                raise ScenarioError(path, f"{prefix}.{i}.key", f"run.{k[1]} cannot be swept (seeds go in "
                                    "`seeds`, months in [run])")
        if spec.sample is None:
            probe_values: list[Any] = list(e.values)
        else:
            probe_values = [e.bounds[0], e.bounds[1]]
        for b, dump in enumerate(dumps):
            for j, v in enumerate(probe_values):
                vkey = f"{prefix}.{i}.values.{j}" if spec.sample is None else f"{prefix}.{i}.bounds.{j}"
                if isinstance(v, float) and not math.isfinite(v):
                    raise ScenarioError(path, vkey, f"must be a finite number (got {v})")
                try:
                    over = [(k, _as_kind(v, dump, k) if spec.sample is not None else v) for k in keys]
                    got = apply_overrides(dump, over).model_dump()
                    _check_kinds(path, f"{prefix}.{i}.key", vkey, e.key, over, got, spec.sample is not None)
                except KeyError as err:
                    raise ScenarioError(path, f"{prefix}.{i}.key", str(err.args[0])) from None
                except ValidationError as err:
                    on = f" on base {bases[b].name}" if len(bases) > 1 else ""
                    msg = f"{v!r} is not valid for {first_error(err)}{on}"
                    raise ScenarioError(path, vkey, msg) from None
        values = np.array(e.values) if spec.sample is None else np.array(e.bounds)
        axes.append(Axis(name, keys, values))

    design = None
    params: list[Axis] = []
    if spec.sample is not None:
        params, axes = axes, []
        try:
            design = _design(spec.sample, spec.sample.params, [p.name for p in params])
        except Exception as e:  # SALib and scipy reject some sizes
            raise ScenarioError(path, "sample", f"cannot build the design: {e}") from None
        for j, p in enumerate(params):  # integer keys (months, counts) take rounded values
            cur = get_key(dumps[0], p.keys[0])
            if isinstance(cur, int) and not isinstance(cur, bool):
                design[:, j] = np.round(design[:, j])

    # outputs
    from ..records import VARIABLES

    if spec.outputs == "all":
        outputs = tuple(VARIABLES)
    elif spec.outputs is None:
        outputs = tuple(v for v in DEFAULT_OUTPUTS if v in VARIABLES)
    else:
        for i, v in enumerate(spec.outputs):
            if v not in VARIABLES:
                raise ScenarioError(path, f"outputs.{i}",
                                    f"unknown output {v!r} (known: {', '.join(VARIABLES)})")
        if len(set(spec.outputs)) != len(spec.outputs):
            raise ScenarioError(path, "outputs", "outputs repeat")
        outputs = tuple(spec.outputs)

    name = spec.name or (path.stem if path.name != "<dict>" else "sweep")
    sw = Sweep(path=path, text=text, spec=spec, name=name, bases=bases, base_dumps=dumps,
               seeds=seeds, axes=axes, params=params, design=design, outputs=outputs)
    sw.fingerprint = _fingerprint(sw)
    return sw


def _fingerprint(sw: Sweep) -> str:
    """What the results depend on: resolved scenarios, overrides, seeds, design, outputs."""
    h = hashlib.sha256()
    h.update(json.dumps({
        "bases": [scenario_toml(sc) for sc in sw.bases],
        "dims": list(sw.lead_dims), "shape": list(sw.lead_shape),
        "axes": [[a.name, [list(k) for k in a.keys], a.values.tolist()] for a in sw.axes],
        "params": [[p.name, [list(k) for k in p.keys]] for p in sw.params],
        "seeds": sw.seeds.tolist(), "outputs": list(sw.outputs),
    }, sort_keys=True, default=str).encode())
    if sw.design is not None:
        h.update(np.ascontiguousarray(sw.design, dtype=np.float64).tobytes())
    return h.hexdigest()
