"""The observed series of `sim/data/history/*.toml`, validated with pydantic.

Every point carries its value, source, address and quality (`sourced`, `derived` or `weak`), so a
figure never travels without where it came from. `load_history()` reads the packaged files (or the
`*.toml` of another folder) and returns a `History`: the series by name, each with its units and
points, and `to_dataset()` / `table()` for a series x year view. A bad file raises a ScenarioError
naming the file and the key (`series.ppi.points[2].source: ...`).

`python -m sim.hindcast.data` prints the table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..scenario import ScenarioError

FIRST_YEAR, LAST_YEAR = 2010, 2030  # a year outside these is a typing error, not a datum
KINDS = ("level", "growth", "ratio", "policy")
QUALITIES = ("sourced", "derived", "weak")


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    quarter: int | None = Field(default=None, ge=1, le=4, description="quarterly series only")
    value: float = Field(allow_inf_nan=False)
    source: str = Field(min_length=8, description="publisher, year, document and the page relaying it")
    url: str = ""
    quality: Literal["sourced", "derived", "weak"]
    note: str = ""

    @field_validator("source")
    @classmethod
    def _source_names_a_year(cls, v: str) -> str:
        if not any(str(y) in v for y in range(2000, LAST_YEAR + 1)):
            raise ValueError("a source names the year of its release")
        return v

    @model_validator(mode="after")
    def _derived_shows_how(self) -> Point:
        if self.quality == "derived" and not self.note:
            raise ValueError("a derived point gives its formula in `note`")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} is not a web address")
        return self


class Series(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    long_name: str = Field(min_length=3)
    units: str = Field(min_length=1)
    group: str = Field(min_length=2)
    kind: Literal["level", "growth", "ratio", "policy"]
    frequency: Literal["annual", "quarterly"] = "annual"
    note: str = ""
    points: list[Point] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_point_a_period(self) -> Series:
        quarterly = self.frequency == "quarterly"
        for i, p in enumerate(self.points):
            if (p.quarter is not None) != quarterly:
                raise ValueError(f"points[{i}]: a {self.frequency} series' points "
                                 f"{'give' if quarterly else 'give no'} `quarter`")
        periods = [period(p) for p in self.points]
        if len(set(periods)) != len(periods):
            dup = sorted({y for y in periods if periods.count(y) > 1})
            raise ValueError(f"more than one point for {'year ' if not quarterly else ''}{dup[0]}")
        if self.kind in ("growth", "ratio") and self.units != "%":
            raise ValueError(f"a {self.kind} series is in % (got {self.units!r})")
        return self


def period(p: Point) -> str:
    """`2019` or `2019Q3`."""
    return f"{p.year}" if p.quarter is None else f"{p.year}Q{p.quarter}"


class HistoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    series: dict[str, Series] = Field(min_length=1)
    missing: dict[str, list[str]] = {}


@dataclass(frozen=True)
class History:
    """The observed series by name; `files` says which file each came from."""

    series: dict[str, Series]
    files: dict[str, str]
    missing: dict[str, list[str]]
    folder: str = "sim/data/history"

    @property
    def years(self) -> list[int]:
        return sorted({p.year for s in self.series.values() for p in s.points})

    @property
    def annual(self) -> dict[str, Series]:
        return {n: s for n, s in self.series.items() if s.frequency == "annual"}

    def value(self, name: str, year: int) -> float:
        """The observed value of an annual series, NaN when there is none."""
        for p in self.series[name].points:
            if p.year == year and p.quarter is None:
                return p.value
        return float("nan")

    def values(self, name: str, years) -> np.ndarray:
        return np.array([self.value(name, int(y)) for y in years], dtype=float)

    def last_year(self, name: str) -> int:
        return max(p.year for p in self.series[name].points)

    def to_dataset(self) -> xr.Dataset:
        """value, source, url and quality over (series, year) for the annual series; units,
        long_name, group and kind over series (units differ by series, so they are a coordinate,
        not an attribute). Quarterly series are in `table()`."""
        names = list(self.annual)
        years = sorted({p.year for n in names for p in self.series[n].points})
        val = np.full((len(names), len(years)), np.nan)
        src = np.full((len(names), len(years)), "", dtype=object)
        url = np.full((len(names), len(years)), "", dtype=object)
        qual = np.full((len(names), len(years)), "", dtype=object)
        for i, n in enumerate(names):
            for p in self.series[n].points:
                j = years.index(p.year)
                val[i, j], src[i, j], url[i, j], qual[i, j] = p.value, p.source, p.url, p.quality
        s = self.series
        coords = {
            "series": names, "year": years,
            "units": ("series", [s[n].units for n in names]),
            "long_name": ("series", [s[n].long_name for n in names]),
            "group": ("series", [s[n].group for n in names]),
            "kind": ("series", [s[n].kind for n in names]),
        }
        ds = xr.Dataset(
            {"value": (("series", "year"), val, {"long_name": "Observed value (units: the series' `units`)",
                                                 "units": "see units coordinate"}),
             "source": (("series", "year"), src.astype(str), {"long_name": "Publisher, year, document"}),
             "url": (("series", "year"), url.astype(str), {"long_name": "Page the figure was read on"}),
             "quality": (("series", "year"), qual.astype(str),
                         {"long_name": "sourced, derived (formula in the file) or weak"})},
            coords=coords)
        ds.year.attrs.update(units="year", long_name="Calendar year")
        return ds

    def table(self) -> list[tuple[str, Series, Point]]:
        """(name, series, point) rows, by group, series and year."""
        rows = []
        for name, s in sorted(self.series.items(), key=lambda kv: (kv[1].group, kv[0])):
            rows.extend((name, s, p) for p in sorted(s.points, key=lambda p: (p.year, p.quarter or 0)))
        return rows


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_file(path: Path) -> HistoryFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(path, None, f"cannot read ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, None, f"not valid TOML ({e})") from None
    try:
        return HistoryFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise ScenarioError(path, _where(err["loc"]), err["msg"]) from None


def data_files(folder: str | Path | None = None) -> list[Path]:
    if folder is None:
        folder = Path(str(resources.files("sim").joinpath("data/history")))
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(folder, None, "no such folder of history data")
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ScenarioError(folder, None, "no *.toml history files in this folder")
    return files


def load_history(folder: str | Path | None = None) -> History:
    """Every `*.toml` of `folder` (default: the packaged sim/data/history); a series name may
    appear in one file only."""
    series: dict[str, Series] = {}
    files: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    paths = data_files(folder)
    for path in paths:
        hf = read_file(path)
        for name, s in hf.series.items():
            if name in series:
                raise ScenarioError(path, f"series.{name}", f"also defined in {files[name]}")
            series[name], files[name] = s, path.name
        for group, items in hf.missing.items():
            missing.setdefault(group, []).extend(items)
    return History(series, files, missing, str(folder) if folder is not None else "sim/data/history")


def _main() -> None:
    h = load_history()
    for name, s, p in h.table():
        print(f"{s.group:<11} {name:<34} {period(p):<6} {p.value:>10g} {s.units:<15} {p.quality:<8} {p.source}")
    n = sum(len(s.points) for s in h.series.values())
    print(f"{len(h.series)} series, {n} points, years {h.years[0]}-{h.years[-1]}")


if __name__ == "__main__":
    _main()
