"""The scenario explorer: pick scenarios and levers, run, and see the effects with their bands.

In a notebook, `sim.explore.Page()` shows the page (solara); `sim explore` serves it in a web
browser. `sim.explore.levers` is the same without a page: `run(Choice(...))` returns the
comparison (sim.compare's Dataset), `figure` and `table` show it. Needs solara
(`pip install "sim[explore]"`), Mesa's own visualisation stack.
"""

from __future__ import annotations

from .levers import Choice, Lever, all_levers, run

__all__ = ["Choice", "Lever", "Page", "all_levers", "run"]


def __getattr__(name: str):  # the page imports solara; the rest does not need it
    if name == "Page":
        from .app import Page

        return Page
    raise AttributeError(f"module 'sim.explore' has no attribute {name!r}")
