"""`qpi run`, `qpi jobs ...` and `qpi qpus` against a local orchestrator."""

from __future__ import annotations

import json
import math

import click
import pytest

from qpi.cli.run import input_names, parse_rows

from .conftest import BELL, FAILS_ON_THE_QPU, RX_RZ


def test_run_prints_counts_as_bars_then_comes_from_the_cache(qpi, auth, bell_file) -> None:
    first = qpi("run", str(bell_file), "--shots", "500", *auth)
    assert first.exit_code == 0, first.stderr
    assert "on the server" in first.stdout
    assert "█" in first.stdout
    assert "00" in first.stdout and "11" in first.stdout
    assert first.stderr == ""
    second = qpi("run", str(bell_file), "--shots", "500", *auth)
    assert "from the cache" in second.stdout
    # Same job, same counts.
    assert first.stdout.split()[1] == second.stdout.split()[1]
    assert first.stdout.splitlines()[1:] == second.stdout.splitlines()[1:]


def test_run_json(qpi, auth, bell_file) -> None:
    result = qpi("run", str(bell_file), "--shots", "300", "--qpu", "mock", "--json", *auth)
    data = json.loads(result.stdout)
    assert data["status"] == "completed"
    assert data["qpu"] == "mock"
    assert data["from_cache"] is False
    (exp,) = data["experiments"]
    assert sum(exp["counts"].values()) == 300
    assert set(exp["counts"]) <= {"00", "11"}
    again = json.loads(qpi("--json", "run", str(bell_file), "-s", "300", *auth).stdout)
    assert again["from_cache"] is True and again["job_id"] == data["job_id"]


def test_run_from_stdin(qpi, auth) -> None:
    result = qpi("run", "-", "--shots", "50", "--json", *auth, input=BELL)
    assert sum(json.loads(result.stdout)["experiments"][0]["counts"].values()) == 50


def test_param_rows_bind_in_sorted_input_order(qpi, auth, rx_file) -> None:
    result = qpi(
        "run",
        str(rx_file),
        "-p",
        "theta=0,phi=0",
        "-p",
        "theta=pi,phi=0",
        "-p",
        "0, pi/2",  # positional: (phi, theta)
        "--shots",
        "200",
        "--json",
        *auth,
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["experiments"]
    assert [r["parameter_values"] for r in rows] == [[0, 0], [0, math.pi], [0, math.pi / 2]]
    assert rows[0]["counts"] == {"0": 200}
    assert rows[1]["counts"] == {"1": 200}
    assert set(rows[2]["counts"]) == {"0", "1"}


def test_param_rows_are_named_in_the_text_output(qpi, auth, rx_file) -> None:
    result = qpi("run", str(rx_file), "-p", "theta=pi,phi=0", "-s", "20", *auth)
    assert "row 0 (phi=0, theta=3.14159)" in result.stdout


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ((), "declares input(s) phi, theta"),
        (("0.5",), "has 1 value(s) but the program has 2"),
        (("theta=1",), "missing phi"),
        (("theta=1,phi=2,psi=3",), "unknown psi"),
        (("theta=1,2",), "mix of name=value"),
        (("theta=abc,phi=0",), "is not a number"),
    ],
)
def test_bad_params_are_usage_errors(qpi, auth, rx_file, params, message) -> None:
    args = [a for p in params for a in ("-p", p)]
    result = qpi("run", str(rx_file), *args, *auth)
    assert result.exit_code == 2
    assert message in result.stderr


def test_params_for_a_program_without_inputs(qpi, auth, bell_file) -> None:
    result = qpi("run", str(bell_file), "-p", "1", *auth)
    assert result.exit_code == 2
    assert "declares no inputs" in result.stderr


def test_parse_rows_values() -> None:
    names = ["a", "b"]
    assert parse_rows(["1,2", "b=4,a=3", "-pi/2, 2*pi", "1e-3,.5"], names) == [
        [1.0, 2.0],
        [3.0, 4.0],
        [-math.pi / 2, 2 * math.pi],
        [0.001, 0.5],
    ]
    assert parse_rows([], []) == []
    with pytest.raises(click.BadParameter):
        parse_rows(["inf,1"], names)


def test_input_names_falls_back_to_the_declarations() -> None:
    assert input_names(RX_RZ) == ["phi", "theta"]
    # A gate definition is valid OpenQASM outside the parser's subset.
    custom = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] b;\ninput angle[32] a;\n'
        "gate g(t) q { rx(t) q; }\nqubit[1] q;\nbit[1] c;\ng(a + b) q[0];\nc[0] = measure q[0];\n"
    )
    assert input_names(custom) == ["a", "b"]


def test_no_wait_prints_only_the_job_id_then_jobs_commands(qpi, auth, bell_file) -> None:
    job_id = qpi("run", str(bell_file), "-s", "64", "--no-wait", *auth).stdout.strip()
    assert job_id and " " not in job_id

    waited = qpi("jobs", "wait", job_id, *auth)
    assert waited.exit_code == 0
    assert f"job {job_id}  completed" in waited.stdout
    assert "█" in waited.stdout

    shown = json.loads(qpi("jobs", "show", job_id, "--json", *auth).stdout)
    assert shown["id"] == job_id and shown["status"] == "completed"
    assert shown["qpu"] == "mock"
    assert sum(shown["experiments"][0]["counts"].values()) == 64

    text = qpi("jobs", "show", job_id, *auth).stdout
    assert "qpu       mock" in text and "64 shots" in text

    listed = json.loads(qpi("jobs", "list", "--json", *auth).stdout)
    assert job_id in [job["id"] for job in listed]
    assert qpi("jobs", "list", *auth).stdout.startswith("ID ")


def test_no_wait_json(qpi, auth, bell_file) -> None:
    data = json.loads(qpi("run", str(bell_file), "-s", "65", "--no-wait", "--json", *auth).stdout)
    assert set(data) == {"job_id"}


def test_jobs_list_filters_by_status(qpi, auth, bell_file, parked_qpu) -> None:
    pending = qpi("run", str(bell_file), "--qpu", parked_qpu, "--no-wait", *auth).stdout.strip()
    listed = json.loads(qpi("jobs", "list", "--status", "pending", "--json", *auth).stdout)
    assert pending in [job["id"] for job in listed]
    assert {job["status"] for job in listed} == {"pending"}
    assert len(json.loads(qpi("jobs", "list", "-n", "1", "--json", *auth).stdout)) == 1

    cancelled = qpi("jobs", "cancel", pending, "--json", *auth)
    assert json.loads(cancelled.stdout) == {"id": pending, "status": "cancelled"}
    assert f"job {pending}  cancelled" in qpi("jobs", "show", pending, *auth).stdout


def test_qpus(qpi, auth) -> None:
    text = qpi("qpus", *auth)
    assert text.exit_code == 0
    assert text.stdout.startswith("NAME ")
    assert "mock" in text.stdout
    records = json.loads(qpi("qpus", "--json", *auth).stdout)
    assert {"mock", "qiskit_aer"} <= {q["name"] for q in records}


def test_options_work_before_and_after_the_command(qpi, server) -> None:
    before = qpi("--url", server.url, "--json", "qpus")
    after = qpi("qpus", "--url", server.url, "--json")
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_a_failed_job_shows_the_drivers_message(qpi, auth, tmp_path) -> None:
    program = tmp_path / "broken.qasm"
    program.write_text(FAILS_ON_THE_QPU)
    job_id = qpi("run", str(program), "-s", "10", "--no-wait", *auth).stdout.strip()
    assert qpi("jobs", "wait", job_id, *auth).exit_code == 1
    shown = qpi("jobs", "show", job_id, *auth)
    assert shown.exit_code == 0  # showing a failed job is not a failure
    assert f"job {job_id}  failed" in shown.stdout
    assert "error     Failed to parse QASM circuit" in shown.stdout
    data = json.loads(qpi("jobs", "show", job_id, "--json", *auth).stdout)
    assert data["status"] == "failed" and "notagate" in data["error"]
    assert data["experiments"] == []
