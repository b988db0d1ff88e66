"""Reprs stay short and HTML displays say what a notebook user needs (qpi.display)."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from qpi import QPIClient
from qpi.circuit import Circuit
from qpi.display import NotebookProgress, counts_histogram, counts_summary
from qpi.errors import MissingDependencyError
from qpi.lazy import lazy_exports
from qpi.payload import CircuitPayload, JobPayload
from qpi.server import LocalServer
from tests.client.conftest import RX

ROWS = [[i / 100] for i in range(200)]


@pytest.fixture
def sweep(server: LocalServer, tmp_path: Path) -> JobPayload:
    with server.client(cache=False) as client:
        mock = client.get_qpu("mock")["id"]
    return JobPayload([CircuitPayload(RX, ROWS)], shots=1000, qpu_target=mock)


def test_a_200_row_sweep_prints_in_one_short_line(server: LocalServer, sweep: JobPayload) -> None:
    with server.client(cache=False) as client:
        job = client.submit(sweep)
        before = repr(job)
        result = job.result()
    for text in (before, repr(job), repr(result), repr(sweep), repr(sweep.circuits[0])):
        assert len(text) < 200 and "\n" not in text, text
    assert repr(job).endswith("done>") and not before.endswith("done>")
    assert "200 experiment(s)" in repr(result) and job.id in repr(result)
    assert len(result._repr_html_()) < 20_000


def test_results_from_the_cache_say_so(server: LocalServer, sweep: JobPayload, tmp_path: Path):
    with server.client(cache=tmp_path / "cache") as client:
        first = client.submit(sweep).result()
    with server.client(cache=tmp_path / "cache") as client:
        again = client.submit(sweep).result()
    assert "from cache" not in repr(first) and "from cache" not in first._repr_html_()
    assert repr(again).endswith("from cache>")
    assert "from cache" in again._repr_html_()


def test_job_and_client_html_show_status_and_counts(client: QPIClient, mock_id: str) -> None:
    bell = JobPayload([CircuitPayload(RX, [[3.141592653589793]])], shots=100, qpu_target=mock_id)
    job = client.submit(bell)
    job.result()
    page = job._repr_html_()
    assert "completed" in page and "<svg" in page and ">1<" in page  # the outcome '1' is drawn
    assert client.base_url in client._repr_html_()
    assert "API token" in client._repr_html_()


def test_wide_counts_show_the_most_frequent_outcomes() -> None:
    counts = {format(i, "022b"): 1 for i in range(5000)}
    counts["1" * 22] = 900
    counts["0" * 22] = 800
    summary = counts_summary(counts)
    assert summary.startswith("{'" + "1" * 22 + "': 900, '" + "0" * 22 + "': 800")
    assert "+4997 more" in summary
    svg = counts_histogram(counts)
    assert svg.count("<rect") == 16 and "4985 less frequent outcome(s)" in svg
    assert svg.index("1" * 22) < svg.index("0" * 22)


def test_a_circuit_repr_is_bounded() -> None:
    circuit = Circuit(20, 20)
    for q in range(20):
        for _ in range(500):
            circuit.gate("h", (q,))
    assert repr(circuit) == "Circuit(num_qubits=20, num_clbits=20, 10000 instruction(s))"


class RecordingHandle:
    """Stands in for IPython's display handle: records what each update shows."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def update(self, obj: object) -> None:
        self.shown.append(obj._repr_html_())  # type: ignore[attr-defined]


def test_notebook_progress_updates_one_output(client: QPIClient, mock_id: str) -> None:
    handle = RecordingHandle()
    progress = NotebookProgress("job1", handle)
    job = client.submit(JobPayload([CircuitPayload(RX, [[0.1]])], qpu_target=mock_id))
    job.result(callback=progress.update)
    progress.finish()
    assert handle.shown and all("job1" in html for html in handle.shown)
    assert re.search(r"<strong>completed</strong> \d+\.\d s", handle.shown[-1])


def test_a_missing_extra_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "needs_dep_xyz.py").write_text(
        textwrap.dedent("import qpi_absent_dependency_xyz\nThing = 1\n")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    getattr_, _ = lazy_exports("qpi_demo_pkg", {"Thing": "needs_dep_xyz"}, extra="widgets")
    with pytest.raises(MissingDependencyError) as info:
        getattr_("Thing")
    assert isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == "qpi_absent_dependency_xyz"
    assert str(info.value) == (
        "qpi_demo_pkg.Thing needs the 'widgets' extra (qpi_absent_dependency_xyz is not "
        "installed): pip install 'qpi-sdk[widgets]'"
    )
    sys.modules.pop("needs_dep_xyz", None)
