"""Load scenario files: TOML, `extends` chains, package defaults, validation with clear errors."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from .errors import ScenarioError
from .schema import Scenario

CALIBRATIONS = ("2019", "2016")  # run.calibration: the year whose starting state the sector tables hold
# the keys of a calibration-year file (sim/data/sectors_YYYY.toml) and the sector keys they set
YEAR_KEYS = {"firms": "firms_2019", "revenue": "revenue_2019", "profit_margin": "profit_margin",
             "utilisation": "utilisation_2019", "capacity": "capacity_2019"}


def _data_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("sim").joinpath(f"data/{name}").read_text(encoding="utf-8"))


def calibration_year_table(calibration: str) -> dict[str, dict[str, Any]]:
    """The figures of sim/data/sectors_YYYY.toml for a calibration other than 2019, by sector, under
    the sector keys they set (YEAR_KEYS)."""
    return {s: {YEAR_KEYS[k]: v for k, v in t.items()} for s, t in _data_toml(f"sectors_{calibration}.toml").items()}


def sector_defaults(calibration: str = "2019") -> dict[str, Any]:
    """The sector tables of a calibration: sim/data/sectors.toml (2019), with the figures of the
    calibration's year (sim/data/sectors_2016.toml) over it for "2016"; an unknown calibration gives
    the 2019 tables (validation reports the key)."""
    d = _data_toml("sectors.toml")
    if calibration != "2019" and calibration in CALIBRATIONS:
        for s, t in calibration_year_table(calibration).items():
            d[s].update(t)
    return d


def _calibration(chain: list[tuple[Path, dict[str, Any]]]) -> str:
    """run.calibration as the merged chain sets it (the last file that names it), else "2019"."""
    cal: Any = "2019"
    for _, raw in chain:
        run = raw.get("run")
        if isinstance(run, dict) and "calibration" in run:
            cal = run["calibration"]
    return cal if isinstance(cal, str) else "2019"


MAX_FILE_BYTES = 1 << 20   # a scenario or sweep file is a few kB; anything near this is not one
MAX_EXTENDS_DEPTH = 32     # files in one `extends` chain
MAX_NESTING = 8            # tables within tables (the schema's deepest is schedule.MONTH.key.sector)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces the base value."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _widen_sector_tables(base: dict[str, Any], over: dict[str, Any]) -> None:
    """Where `over` gives a per-sector instrument as a table and `base` as one number for every
    sector, `base`'s number becomes a table first (in place), so the merged table changes only the
    sectors `over` names (in [policy] and in each [schedule."YYYY-MM"] table)."""
    from .schema import PER_SECTOR_POLICY, SECTORS

    pairs = [(base.get("policy"), over.get("policy"))]
    b_sched, o_sched = base.get("schedule"), over.get("schedule")
    if isinstance(b_sched, dict) and isinstance(o_sched, dict):
        pairs += [(b_sched.get(m), o_sched[m]) for m in o_sched]
    for b, o in pairs:
        if isinstance(b, dict) and isinstance(o, dict):
            for k in PER_SECTOR_POLICY:
                if isinstance(o.get(k), dict) and k in b and not isinstance(b[k], dict):
                    b[k] = dict.fromkeys(SECTORS, b[k])


def merge_scenario(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """One file of an `extends` chain merged over what comes before it."""
    base = copy.deepcopy(base)
    _widen_sector_tables(base, over)
    return deep_merge(base, over)


def _nesting(x: Any, depth: int = 0) -> int:
    if depth > MAX_NESTING:
        return depth
    if isinstance(x, dict):
        return max((_nesting(v, depth + 1) for v in x.values()), default=depth + 1)
    if isinstance(x, list):
        return max((_nesting(v, depth + 1) for v in x), default=depth + 1)
    return depth


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and contents; a missing, unreadable, oversized or malformed file is a
    ScenarioError (never a traceback: symlink loops, folders, binary files and deep nesting too)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(path, None, f"file is {size / 2**20:.1f} MiB; a scenario or sweep file is at "
                                f"most {MAX_FILE_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError, RuntimeError) as e:  # a folder, no permission, a symlink loop
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e.__class__.__name__
        raise ScenarioError(path, None, f"cannot read the file ({reason})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, None, f"not valid TOML: {e}") from None
    except RecursionError:
        raise ScenarioError(path, None, f"tables or arrays nested deeper than {MAX_NESTING} levels") from None
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(path, None, f"tables or arrays nested deeper than {MAX_NESTING} levels")
    return text, data


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path)[1]


def _chain(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The file and its `extends` ancestors, root first. `extends` is a file name or a list of file
    names, merged in order; a file reached twice (e.g. a shared baseline) is merged once, first."""
    try:
        path = path.resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop
        raise ScenarioError(path, None, f"cannot resolve the path ({e.__class__.__name__}: a symlink loop?)") \
            from None
    if path in seen:
        raise ScenarioError(path, "extends", "circular extends chain: " + " -> ".join(str(p) for p in seen))
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(seen[0], "extends", f"extends chain deeper than {MAX_EXTENDS_DEPTH} files")
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return [(path, raw)]
    parents = parent if isinstance(parent, list) else [parent]
    if not parents or not all(isinstance(x, str) for x in parents):
        raise ScenarioError(path, "extends", "must be a file name or a list of file names")
    chain: list[tuple[Path, dict[str, Any]]] = []
    for name in parents:
        target = (path.parent / name) if not Path(name).is_absolute() else Path(name)
        if len(name) > 4096:
            raise ScenarioError(path, "extends", "not a file name (over 4096 characters)")
        if not target.exists() and not name.endswith(".toml"):
            target = target.with_suffix(".toml")
        if not target.exists():
            raise ScenarioError(path, "extends", f"extends target {name!r} not found (looked for {target})")
        for p, r in _chain(target, seen + (path,)):
            if all(p != q for q, _ in chain):
                chain.append((p, r))
    return chain + [(path, raw)]


def _has_key(doc: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = doc
    for part in loc:
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            return False
    return True


_BRANCH_TAGS = {"float", "bool", "int", "str", "constrained-float", "constrained-int"}


def _is_branch_tag(part: Any) -> bool:
    """pydantic puts union-branch names (e.g. "float", "dict[...]") into error locations."""
    return isinstance(part, str) and ("[" in part or part in _BRANCH_TAGS)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not _is_branch_tag(p))


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _short_repr(x: Any, limit: int = 60) -> str:
    """A value for an error line: its repr, cut short (a 48 MB value gives a one-line error)."""
    if isinstance(x, str | bytes | list | tuple | dict) and len(x) > limit:
        x = x[:limit] if not isinstance(x, dict) else dict(list(x.items())[:3])
        return repr(x)[:limit] + "..."
    r = repr(x)
    return r if len(r) <= limit else r[:limit] + "..."


def _normalise_months(path: Path, raw: dict[str, Any]) -> None:
    """Schedule months as "YYYY-MM" (a file may write "2019-04-01" or a TOML date), so two files of
    a chain that name one month merge; two names of one month in one file are an error."""
    from .schema import _to_month

    sched = raw.get("schedule")
    if not isinstance(sched, dict):
        return
    out: dict[str, Any] = {}
    for k, v in sched.items():
        try:
            m = _to_month(k)
        except ValueError:
            m = k  # reported by validation, with the key
        if m in out:
            raise ScenarioError(path, f"schedule.{k}", f"month {m} is given twice")
        out[m] = v
    raw["schedule"] = out


def _validate(doc: dict[str, Any], chain: list[tuple[Path, dict[str, Any]]] | list[Path], top: Path) -> Scenario:
    try:
        return Scenario.model_validate(doc)
    except ValidationError as e:
        errs = e.errors()
        # the first problem in the file's order; a key that takes a number or a table by sector (a
        # union) gives one error per branch: the table's entry for a table, else the number's
        first = _clean_loc(tuple(errs[0]["loc"]))
        group = [x for x in errs if _clean_loc(tuple(x["loc"]))[: len(first)] == first]
        err = max(group, key=lambda x: (len(_clean_loc(tuple(x["loc"]))), x["type"] != "dict_type"))
        loc = _clean_loc(tuple(err["loc"]))
        key = _format_loc(loc)
        msg = err["msg"]
        if len(loc) == len(first) and any(x["type"] == "dict_type" for x in group) and err["type"].endswith("_type"):
            msg += " or a table by sector"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and err["type"] not in ("missing",):
            inp = err["input"]
            if not isinstance(inp, dict):
                msg = f"{msg} (got {_short_repr(inp)})"
        # name the file (of the chain, child first) that sets this key
        file = top
        raw_chain = [c for c in chain if isinstance(c, tuple)]
        for p, raw in reversed(raw_chain):
            if loc and _has_key(raw, loc):
                file = p
                break
        others = {_clean_loc(tuple(x["loc"])) for x in errs if x not in group}
        more = f" ({len(others)} more problems)" if others else ""
        raise ScenarioError(file, key or None, msg + more) from None


def validate_document(doc: dict[str, Any], where: str) -> Scenario:
    """A Scenario from a plain document (a dump with changes); errors name `where` and the key."""
    return _validate(doc, [], Path(where))


def _check_sector_names(chain: list[tuple[Path, dict[str, Any]]]) -> None:
    from .schema import SECTORS

    for p, raw in chain:
        sectors = raw.get("sectors", {})
        if isinstance(sectors, dict):
            for name in sectors:
                if name not in SECTORS:
                    raise ScenarioError(p, f"sectors.{name}", f"unknown sector (known: {', '.join(SECTORS)})")


def plain_number(v: Any) -> Any:
    """numpy scalars as the Python numbers they stand for (a seed from np.arange is an int; a
    Python bool stays a bool, and is refused where a number is meant)."""
    import numpy as np

    return v.item() if isinstance(v, np.integer | np.floating) else v


def overrides_document(overrides: dict[str, Any]) -> dict[str, Any]:
    """Keyword overrides as a scenario document: a plain name is a key of [run] (firms=, months=,
    seed=, start=, banks=); a dotted name is a key path anywhere (`**{"policy.vat_rate": 0.13}`,
    `**{"policy.vat_rate.steel": 0.13}`, `**{"schedule.2019-04.vat_rate": 0.13}`)."""
    doc: dict[str, Any] = {}
    for name, value in overrides.items():
        if value is None:
            continue
        parts = name.split(".") if "." in name else ["run", name]
        if name.startswith("schedule."):  # a month may itself hold no dot; "2019-04" stays one part
            parts = ["schedule", *name[len("schedule."):].split(".")]
        node = doc
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ScenarioError("<arguments>", name, "overrides both a value and a key inside it")
        node[parts[-1]] = plain_number(value)
    return doc


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read, merge and validate a scenario file.

    Keyword overrides: a plain name sets a key of the `run` table (firms=, months=, seed=, start=,
    banks=); a dotted name sets any key, `sim.load_scenario(path, **{"policy.vat_rate": 0.13})`, and
    a per-sector table or sector key changes only the sectors it names, as in a file. Raises
    `ScenarioError` with the file (or `<arguments>`) and key path on any problem.
    """
    path = Path(path)
    chain = _chain(path)
    _check_sector_names(chain)
    over = overrides_document(overrides)
    doc: dict[str, Any] = {"sectors": sector_defaults(_calibration([*chain, (Path("<arguments>"), over)]))}
    for p, raw in chain:
        _normalise_months(p, raw)
        doc = merge_scenario(doc, raw)
    doc.setdefault("name", path.stem)
    if over:
        _normalise_months(Path("<arguments>"), over)
        doc = merge_scenario(doc, over)
        chain = [*chain, (Path("<arguments>"), over)]
    return _validate(doc, chain, path)


def scenario_toml(sc: Scenario) -> str:
    """The fully resolved scenario as TOML text (what a run records in its attributes)."""
    data = sc.model_dump(mode="json", exclude_none=True)
    data["schedule"] = {
        k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in data.get("schedule", {}).items()
    }
    return tomli_w.dumps(data)


def scenario_from_toml(text: str) -> Scenario:
    """Rebuild a scenario from recorded text (e.g. a dataset's scenario_toml attribute)."""
    return Scenario.model_validate(tomllib.loads(text))
