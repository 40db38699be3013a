"""The example notebook runs from top to bottom."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from .conftest import ROOT


def test_example_notebook_runs():
    path = ROOT / "examples" / "compare.ipynb"
    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(ROOT / "examples")}}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources=resources).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)
