import pytest

from qpi.errors import ServerError
from qpi.payload import CircuitPayload, JobPayload
from qpi.result import JobResult, normalise_counts, parse_results

BELL = "OPENQASM 3.0;\nbit[2] c;\nqubit[2] q;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n"


def test_normalise_counts_binary_hex_and_int_keys():
    assert normalise_counts({"11": 5, "00": 3, "01": 0}) == {"11": 5, "00": 3}
    assert normalise_counts({"0x3": 5, "0x0": 3}, width=2) == {"11": 5, "00": 3}
    assert normalise_counts({1: 2}, width=3) == {"001": 2}
    assert normalise_counts({"1 0": 4}) == {"10": 4}


def test_parse_results_maps_flattened_entries_back():
    payload = JobPayload(
        [CircuitPayload(BELL, shots=20), CircuitPayload(BELL, [[0.0], [3.1]])], shots=50
    )
    raw = {
        "circuit_results": [
            {"counts": {"00": 10, "11": 10, "01": 0}, "shots": 20},
            {"counts": {"00": 50}, "shots": 50},
            {"counts": {"11": 50}, "shots": 50},
        ]
    }
    exps = parse_results(payload, raw, job_id="j")
    assert [(e.circuit, e.row, e.shots) for e in exps] == [(0, 0, 20), (1, 0, 50), (1, 1, 50)]
    assert exps[0].counts == {"00": 10, "11": 10}
    assert exps[2].parameter_values == (3.1,)
    result = JobResult("j", payload, exps)
    assert result.get_counts(1, 1) == {"11": 50}
    assert [len(g) for g in result.by_circuit()] == [1, 2]
    with pytest.raises(IndexError):
        result.get_counts(2, 0)


def test_parse_results_accepts_json_text_and_legacy_shape():
    payload = JobPayload([BELL])
    assert parse_results(payload, '{"counts": {"11": 3}, "shots": 3}')[0].counts == {"11": 3}


def test_parse_results_refuses_shape_mismatch_and_payload_echo():
    payload = JobPayload([BELL])
    with pytest.raises(ServerError, match="2 result"):
        parse_results(payload, {"circuit_results": [{"counts": {}}, {"counts": {}}]})
    with pytest.raises(ServerError, match="payload where its results belong"):
        parse_results(payload, payload.to_dict())
