import json
import math
import subprocess
import sys

import pytest

from qpi.errors import ValidationError
from qpi.payload import MAX_PAYLOAD_BYTES, CircuitPayload, JobPayload, canonical_json

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)


def test_wire_form_and_defaults():
    payload = JobPayload([{"circuit": BELL}], qpu_target="abc")
    assert payload.to_dict() == {
        "circuits": [{"circuit": BELL}],
        "shots": 1024,
        "meas_level": 2,
        "meas_return": "single",
        "qpu_target": "abc",
    }
    assert "qpu_target" not in JobPayload([BELL]).to_dict()


def test_rows_are_normalised_to_floats():
    a = CircuitPayload(BELL, [[1, 2]])
    b = CircuitPayload(BELL, ((1.0, 2.0),))
    assert a == b
    assert a.to_dict()["parameter_values"] == [[1.0, 2.0]]


def test_fingerprint_is_stable_and_discriminating():
    p1 = JobPayload([CircuitPayload(BELL, [[0.5]])], shots=100)
    p2 = JobPayload([{"circuit": BELL, "parameter_values": [[0.5]]}], shots=100)
    assert p1.fingerprint() == p2.fingerprint()
    assert len(p1.fingerprint()) == 64
    assert (
        JobPayload([BELL], shots=101).fingerprint() != JobPayload([BELL], shots=100).fingerprint()
    )
    assert (
        JobPayload([BELL], qpu_target="a").fingerprint()
        != JobPayload([BELL], qpu_target="b").fingerprint()
    )


def test_fingerprint_is_the_same_in_another_process():
    payload = JobPayload([CircuitPayload(BELL, [[0.1, 1e-300, -2.5]], shots=7)], shots=100)
    code = (
        "from qpi.payload import JobPayload, CircuitPayload;"
        f"p = JobPayload([CircuitPayload({BELL!r}, [[0.1, 1e-300, -2.5]], shots=7)], shots=100);"
        "print(p.fingerprint())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == payload.fingerprint()


def test_canonical_json_sorted_and_compact():
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})


def test_from_dict_applies_server_defaults():
    payload = JobPayload.from_dict(
        {"circuits": [{"circuit": BELL}], "shots": 0, "meas_level": None}
    )
    assert (payload.shots, payload.meas_level, payload.meas_return) == (1024, 2, "single")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shots": 0}, "shots must be at least 1"),
        ({"shots": 2.5}, "shots must be an integer"),
        ({"meas_level": 3}, "meas_level must be one of"),
        ({"meas_return": "sum"}, "meas_return must be one of"),
    ],
)
def test_validation_of_job_options(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        JobPayload([BELL], **kwargs).validate()


def test_validation_of_circuits():
    with pytest.raises(ValidationError, match="at least one circuit"):
        JobPayload([]).validate()
    with pytest.raises(ValidationError, match="empty"):
        JobPayload([{"circuit": "  "}]).validate()
    with pytest.raises(ValidationError, match="OPENQASM"):
        JobPayload([{"circuit": "h q[0];"}]).validate()
    with pytest.raises(ValidationError, match="circuit 0: shots must be at least 1"):
        JobPayload([CircuitPayload(BELL, shots=0)]).validate()


def test_rows_must_be_rectangular_finite_numbers():
    with pytest.raises(ValidationError, match="row 1 has 1 values but row 0 has 2"):
        CircuitPayload(BELL, [[1, 2], [3]])
    with pytest.raises(ValidationError, match="finite"):
        CircuitPayload(BELL, [[math.inf]])
    with pytest.raises(ValidationError, match="real number"):
        CircuitPayload(BELL, [["0.5"]])
    with pytest.raises(ValidationError, match="list of rows"):
        CircuitPayload(BELL, 0.5)


def test_row_length_checked_against_declared_inputs():
    with pytest.raises(ValidationError, match="2 input"):
        CircuitPayload(BELL, [[1.0]], inputs=("p0", "p1")).validate()
    with pytest.raises(ValidationError, match="no parameter_values"):
        CircuitPayload(BELL, None, inputs=("p0",)).validate()
    CircuitPayload(BELL, [[1.0, 2.0]], inputs=("p0", "p1")).validate()


def test_payload_size_limit():
    rows = [[0.123456789012345] * 100] * (MAX_PAYLOAD_BYTES // 1500)
    with pytest.raises(ValidationError, match="split"):
        JobPayload([CircuitPayload(BELL, rows)]).validate()


def test_experiment_index_is_circuit_major():
    payload = JobPayload(
        [CircuitPayload(BELL, shots=20), CircuitPayload(BELL, [[0.0], [3.1]])], shots=50
    )
    assert payload.experiment_index() == [(0, 0), (1, 0), (1, 1)]
    assert payload.num_experiments == 3
    assert [payload.shots_for(i) for i in range(2)] == [20, 50]
    assert json.loads(payload.to_json()) == payload.to_dict()


@pytest.mark.parametrize(
    "circuits",
    [
        [BELL],
        [CircuitPayload(BELL, [[0.5, -1.25], [1e308, 3]], shots=7), CircuitPayload(BELL)],
        [CircuitPayload('OPENQASM 3.0;\n// é "quoted" \\ \t\n', [[2.0]]), {"circuit": BELL}],
    ],
)
def test_json_is_canonical_and_the_sent_body_is_the_marked_payload(circuits):
    from qpi.payload import mark_submission

    payload = JobPayload(circuits, shots=9, meas_level=1, meas_return="avg", qpu_target="q1")
    assert payload.to_json() == canonical_json(payload.to_dict())
    nonce = "0123456789abcdef" * 2
    body = payload.marked_json(nonce)
    assert body == canonical_json(mark_submission(payload.to_dict(), nonce))
    assert JobPayload.from_dict(json.loads(body)).fingerprint() == payload.fingerprint()


def test_rows_of_plain_floats_and_rows_needing_checks_agree():
    assert CircuitPayload(BELL, [[0.5, 1.0]]) == CircuitPayload(BELL, [(0.5, 1)])
    assert CircuitPayload(BELL, [[1e308, 1e308]]).parameter_values == ((1e308, 1e308),)
    for bad in ([[math.nan, 1.0]], [[math.inf, -math.inf]], [[0.5, True]]):
        with pytest.raises(ValidationError, match="row 0 value"):
            CircuitPayload(BELL, bad)
