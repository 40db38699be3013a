"""The scenario explorer's page (Solara, Mesa's own visualisation stack): `sim explore` serves it,
and `sim.explore.Page()` shows it in a notebook.

Pick a baseline and scenarios, set levers (policy keys with the schema's units and bounds) for a
scenario of your own, choose the size of the runs and press Run: `sim.compare` runs in a background
thread (a solara task) with a progress bar, then the effects with their 5-95% bands across seeds
(`sim.plot.effects`) and a table appear. Bad values show the ScenarioError's one line.
"""

from __future__ import annotations

import solara
from solara.lab import task

from ..compare import METRICS
from ..scenario import ScenarioError
from ..scenario.schema import SECTORS
from . import levers as lv

TITLE = "sim scenario explorer"
TABLE_CSS = (".sim-table {border-collapse: collapse} .sim-table td {text-align: right} "
             ".sim-table th {text-align: left} .sim-table th, .sim-table td {padding: 2px 10px; "
             "border-bottom: 1px solid #ddd}")

baseline = solara.reactive("baseline")
picked = solara.reactive(["vat_cut"])
other_file = solara.reactive("")
lever_base = solara.reactive("baseline")
lever_month = solara.reactive("")
on = {lev.key: solara.reactive(False) for lev in lv.all_levers()}
value = {lev.key: solara.reactive(float(lev.default)) for lev in lv.all_levers()}
sector = {lev.key: solara.reactive(lv.ALL_SECTORS) for lev in lv.all_levers() if lev.per_sector}
firms = solara.reactive(1000)
months = solara.reactive(24)
seeds = solara.reactive(2)
metrics = solara.reactive(list(lv.DEFAULT_METRICS))
runs_total = solara.reactive(0)
note = solara.reactive("")
problem = solara.reactive("")  # the ScenarioError of the last Run pressed, if any


def choice() -> lv.Choice:
    """The page's state as a choice (sim.explore.levers.Choice)."""
    chosen = {}
    for key, flag in on.items():
        if flag.value:
            where = sector.get(key)
            name = key if where is None or where.value == lv.ALL_SECTORS else f"{key}.{where.value}"
            chosen[name] = value[key].value
    names = [*picked.value, *([other_file.value.strip()] if other_file.value.strip() else [])]
    return lv.Choice(baseline=baseline.value, scenarios=names, levers=chosen, lever_base=lever_base.value,
                     lever_month=lever_month.value.strip() or None, firms=firms.value, months=months.value,
                     seeds=seeds.value, metrics=list(metrics.value))


@task
def run_choice(ch: lv.Choice):
    def progress(done: int, total: int) -> None:
        run_choice.progress = 100.0 * done / total

    cmp = lv.run(ch, progress)
    return cmp, lv.figure(cmp, ch.metrics), lv.table(cmp, ch.metrics)


def start() -> None:
    """Run: the choice is checked here (a bad value shows its line at once, nothing runs), then
    sim.compare runs in the task's thread."""
    from ..compilecache import notice

    ch = choice()
    try:
        scs, _ = lv.scenarios(ch)
    except ScenarioError as e:
        problem.value = str(e)
        return
    problem.value = ""
    runs_total.value = len(scs) * int(ch.seeds)
    note.value = notice() or ""
    run_choice(ch)


@solara.component
def ScenarioPicker(files: list[str]):
    with solara.Card("Scenarios", margin=0):
        solara.Select("baseline", values=files, value=baseline, classes=["sim-baseline"])
        solara.SelectMultiple("compared with", all_values=[f for f in files if f != baseline.value], values=picked,
                              classes=["sim-picked"])
        solara.InputText("another scenario file (path)", value=other_file, continuous_update=False)


@solara.component
def LeverPanel(files: list[str]):
    with solara.Card("Levers: a scenario of your own (custom)", margin=0):
        solara.Text("Ticked levers change a copy of the file below from the month given (empty: the first month) "
                    "to the end; units and bounds as in the scenario files (docs/scenario-reference.md).")
        with solara.Row():
            solara.Select("starts from", values=files, value=lever_base)
            solara.InputText("from month (YYYY-MM)", value=lever_month, continuous_update=False)
        for lev in lv.all_levers():
            with solara.Row(classes=[f"sim-lever-{lev.key}"], style={"align-items": "center"}, gap="8px"):
                solara.Checkbox(label=lev.key, value=on[lev.key], style="min-width: 17em")
                solara.InputFloat(lev.bounds, value=value[lev.key], suffix=lev.unit, dense=True,
                                  classes=["sim-value"], disabled=not on[lev.key].value, style={"max-width": "9em"})
                if lev.per_sector:
                    solara.Select("sector", values=[lv.ALL_SECTORS, *SECTORS], value=sector[lev.key], dense=True,
                                  disabled=not on[lev.key].value, style={"max-width": "10em"})


@solara.component
def RunPanel():
    with solara.Card("Run", margin=0):
        with solara.Row():
            solara.InputInt("firms", value=firms, classes=["sim-firms"])
            solara.InputInt("months", value=months, classes=["sim-months"])
            solara.InputInt("seeds", value=seeds, classes=["sim-seeds"])
        solara.SelectMultiple("effects shown", all_values=list(METRICS), values=metrics)
        solara.Button("Run", on_click=start, color="primary", disabled=run_choice.pending, classes=["sim-run"])


@solara.component
def Results():
    if problem.value:
        solara.Error(problem.value, classes=["sim-error"])
    if run_choice.not_called:
        if not problem.value:
            solara.Info("Pick scenarios and levers, then press Run. Small runs (1,000 firms, 24 months, 2 seeds) "
                        "take seconds once the kernels are compiled.")
        return
    if run_choice.pending:
        done = round((run_choice.progress or 0) * runs_total.value / 100)
        solara.Text(f"running: {done} of {runs_total.value} runs done", classes=["sim-progress"])
        solara.ProgressLinear(run_choice.progress or True)
        if note.value:
            solara.Warning(note.value)
        return
    if run_choice.error:
        e = run_choice.exception
        solara.Error(str(e) if isinstance(e, ScenarioError) else f"{type(e).__name__}: {e}", classes=["sim-error"])
        return
    if run_choice.finished and run_choice.value is not None:
        cmp, fig, table = run_choice.value
        with solara.Column(classes=["sim-figure"]):
            solara.FigureMatplotlib(fig, dependencies=[id(cmp)], format="png")
        solara.Style(TABLE_CSS)
        solara.Text(f"{table.index.name}: mean [5%, 95%] across seeds", style={"font-weight": "500"})
        solara.HTML(tag="div", unsafe_innerHTML=table.rename_axis(None).to_html(escape=True, border=0,
                                                                               classes="sim-table"))
        solara.Text(f"Against {cmp.attrs['baseline']} on seeds {cmp.attrs['seeds']}. In a notebook, "
                    "sim.explore.app.run_choice.value[0] is sim.compare's Dataset of this run.")


@solara.component
def Page():
    solara.Title(TITLE)
    files = list(lv.scenario_files())
    with solara.Column(style={"padding": "12px"}):
        solara.Text(TITLE, classes=["sim-title"], style={"font-size": "1.6em", "font-weight": "500"})
        with solara.Columns([2, 3]):
            with solara.Column():
                ScenarioPicker(files)
                RunPanel()
                LeverPanel(files)
            with solara.Column():
                Results()
