"""The talks' notebooks under examples/, executed as a user opens them
(nbclient, a fresh kernel): the CSV group-by and the climate anomaly, each
checking itself against pandas or xarray on NumPy in its last cell."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("name", "last"),
    [("csv-groupby.ipynb", "equal to pandas"), ("climate-anomaly.ipynb", "equal to xarray on NumPy")],
)
def test_notebook_runs_and_checks_itself(name: str, last: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if name.startswith("climate"):
        pytest.importorskip("matplotlib")
        pytest.importorskip("netCDF4")
    monkeypatch.setenv("BLOCKWORK_EXAMPLE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert last in outputs[-1]["data"]["text/plain"]


def test_the_committed_notebooks_keep_their_outputs() -> None:
    climate = nbformat.read(EXAMPLES / "climate-anomaly.ipynb", as_version=4)
    images = [o for c in climate.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the climate notebook keeps its 2x2 map"
    groupby = nbformat.read(EXAMPLES / "csv-groupby.ipynb", as_version=4)
    assert any(
        "timestamp" in o.get("data", {}).get("text/plain", "") for c in groupby.cells for o in c.get("outputs", [])
    )
