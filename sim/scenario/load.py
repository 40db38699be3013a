"""Load scenario files: TOML, `extends` chains, package defaults, validation with clear errors."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from .schema import Scenario


class ScenarioError(ValueError):
    """A scenario file is missing, unparsable or invalid. `str()` names the file and the key."""

    def __init__(self, file: str | Path, key: str | None, message: str):
        self.file = str(file)
        self.key = key
        self.message = message
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + message)


def sector_defaults() -> dict[str, Any]:
    text = resources.files("sim").joinpath("data/sectors.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces the base value."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and contents; a missing, unreadable or malformed file is a ScenarioError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, None, "file not found") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise ScenarioError(path, None, f"cannot read the file ({e.__class__.__name__})") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, None, f"not valid TOML: {e}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path)[1]


def _chain(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The file and its `extends` ancestors, root first. `extends` is a file name or a list of file
    names, merged in order; a file reached twice (e.g. a shared baseline) is merged once, first."""
    path = path.resolve()
    if path in seen:
        raise ScenarioError(path, "extends", "circular extends chain: " + " -> ".join(str(p) for p in seen))
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


def _validate(doc: dict[str, Any], chain: list[tuple[Path, dict[str, Any]]] | list[Path], top: Path) -> Scenario:
    try:
        return Scenario.model_validate(doc)
    except ValidationError as e:
        errs = e.errors()
        # report the first error; a union produces one per branch, pick the most specific
        err = max(errs[:8], key=lambda x: (len(_clean_loc(tuple(x["loc"]))), x["type"] != "float_type"))
        loc = _clean_loc(tuple(err["loc"]))
        key = _format_loc(loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and err["type"] not in ("missing",):
            inp = err["input"]
            if not isinstance(inp, dict):
                msg = f"{msg} (got {inp!r})"
        # name the file (of the chain, child first) that sets this key
        file = top
        raw_chain = [c for c in chain if isinstance(c, tuple)]
        for p, raw in reversed(raw_chain):
            if loc and _has_key(raw, loc):
                file = p
                break
        others = {_clean_loc(tuple(x["loc"])) for x in errs} - {loc}
        others = {o for o in others if o != loc[: len(o)]}  # union branches of the same key
        more = f" ({len(others)} more problems)" if others else ""
        raise ScenarioError(file, key or None, msg + more) from None


def _check_sector_names(chain: list[tuple[Path, dict[str, Any]]]) -> None:
    from .schema import SECTORS

    for p, raw in chain:
        sectors = raw.get("sectors", {})
        if isinstance(sectors, dict):
            for name in sectors:
                if name not in SECTORS:
                    raise ScenarioError(p, f"sectors.{name}", f"unknown sector (known: {', '.join(SECTORS)})")


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read, merge and validate a scenario file.

    Keyword overrides are merged into the `run` table (firms=, months=, seed=, start=, banks=).
    Raises `ScenarioError` with the file and key path on any problem.
    """
    path = Path(path)
    chain = _chain(path)
    _check_sector_names(chain)
    doc: dict[str, Any] = {"sectors": sector_defaults()}
    for _, raw in chain:
        doc = deep_merge(doc, raw)
    doc.setdefault("name", path.stem)
    run_over = {k: v for k, v in overrides.items() if v is not None}
    if run_over:
        doc = deep_merge(doc, {"run": run_over})
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
