"""Bad input is refused on the client with ``ValidationError`` before a single request.

Every client here talks to the server through a pass-through proxy that records each request
it carries, so "no request" is counted on the wire, not inferred. ``run()`` resolves a QPU
name with a request, so it must validate before that lookup too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpi import QPIClient, errors
from qpi.circuit import Circuit, Param
from qpi.payload import MAX_PAYLOAD_BYTES, CircuitPayload, JobPayload
from tests.faultproxy import FaultProxy, fault_proxy
from tests.reliability.helpers import BELL, RX

FAST = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def wire(server) -> Iterator[FaultProxy]:
    with fault_proxy(server.url) as proxy:
        yield proxy


@pytest.fixture(params=["off", "reuse", "record", "replay"])
def client(request, server, wire, tmp_path) -> Iterator[QPIClient]:
    """A client in each cache mode (a fresh one: nothing memoised, nothing cached)."""
    mode = request.param
    cache = False if mode == "off" else tmp_path / "cache"
    with QPIClient(wire.url, api_token=server.api_token, cache=cache, cache_mode=mode) as c:
        yield c


def refused(wire: FaultProxy, call, match: str | None = None) -> errors.ValidationError:
    """Run ``call``; it must raise ValidationError and send nothing."""
    before = len(wire.seen)
    with pytest.raises(errors.ValidationError, match=match) as info:
        call()
    assert wire.seen[before:] == [], f"requests were sent: {wire.seen[before:]}"
    return info.value


NOT_A_SHOT_COUNT = st.one_of(
    st.integers(max_value=0),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
NOT_A_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not math.isfinite(x)),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


def test_the_control_a_good_run_is_seen_on_the_wire(server, wire):
    with QPIClient(wire.url, api_token=server.api_token, cache=False) as client:
        before = len(wire.seen)
        client.run(BELL, shots=8, qpu="mock").result(timeout=60)
    assert len(wire.seen) > before  # the counter counts


BAD_SUBMISSIONS = {
    "no circuits": ({"circuits": []}, "at least one circuit"),
    "circuits not a list": ({"circuits": 42}, "circuits must be a list"),
    "empty text": ({"circuits": [{"circuit": ""}]}, "empty"),
    "blank text": ({"circuits": [{"circuit": " \n\t"}]}, "empty"),
    "text not a string": ({"circuits": [{"circuit": 7}]}, "empty"),
    "no OPENQASM header": ({"circuits": [{"circuit": "h q[0];"}]}, "OPENQASM"),
    "entry without circuit": ({"circuits": [{"qasm": BELL}]}, "'circuit' key"),
    "entry not a dict": ({"circuits": [3]}, "'circuit' key"),
    "zero shots": ({"circuits": [{"circuit": BELL}], "shots": 0}, "at least 1"),
    "negative shots": ({"circuits": [{"circuit": BELL}], "shots": -5}, "at least 1"),
    "float shots": ({"circuits": [{"circuit": BELL}], "shots": 10.5}, "integer"),
    "bool shots": ({"circuits": [{"circuit": BELL}], "shots": True}, "integer"),
    "text shots": ({"circuits": [{"circuit": BELL}], "shots": "100"}, "integer"),
    "circuit shots 0": ({"circuits": [{"circuit": BELL, "shots": 0}]}, "at least 1"),
    "circuit shots text": ({"circuits": [{"circuit": BELL, "shots": "5"}]}, "integer"),
    "meas_level 3": ({"circuits": [{"circuit": BELL}], "meas_level": 3}, "meas_level"),
    "meas_level -1": ({"circuits": [{"circuit": BELL}], "meas_level": -1}, "meas_level"),
    "meas_level text": ({"circuits": [{"circuit": BELL}], "meas_level": "2"}, "meas_level"),
    "meas_return sum": ({"circuits": [{"circuit": BELL}], "meas_return": "sum"}, "meas_return"),
    "meas_return None": ({"circuits": [{"circuit": BELL}], "meas_return": None}, "meas_return"),
    "qpu_target number": ({"circuits": [{"circuit": BELL}], "qpu_target": 5}, "qpu_target"),
    "NaN row": ({"circuits": [{"circuit": RX, "parameter_values": [[math.nan]]}]}, "finite"),
    "inf row": ({"circuits": [{"circuit": RX, "parameter_values": [[math.inf]]}]}, "finite"),
    "text in row": ({"circuits": [{"circuit": RX, "parameter_values": [["0.1"]]}]}, "real"),
    "bool in row": ({"circuits": [{"circuit": RX, "parameter_values": [[True]]}]}, "real"),
    "row not a list": ({"circuits": [{"circuit": RX, "parameter_values": [0.1]}]}, "row 0"),
    "rows a string": ({"circuits": [{"circuit": RX, "parameter_values": "0.1"}]}, "list of rows"),
    "ragged rows": (
        {"circuits": [{"circuit": RX, "parameter_values": [[0.1], [0.1, 0.2]]}]},
        "row 1 has 2",
    ),
    "payload over 1 MiB": (
        {"circuits": [{"circuit": BELL + "//" + "x" * MAX_PAYLOAD_BYTES}]},
        "at most",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SUBMISSIONS), ids=list(BAD_SUBMISSIONS))
def test_submit_job_refuses_bad_input_without_a_request(client, wire, case):
    kwargs, message = BAD_SUBMISSIONS[case]
    refused(wire, lambda: client.submit_job(**kwargs), message)


#: Entries no plugin translates. ``run()`` takes a QPU name, not a target id, so the bad
#: ``qpu_target`` case does not apply to it.
_NOT_FOR_RUN = {"circuits not a list", "entry not a dict", "entry without circuit"}


_RUN_CASES = [case for case in BAD_SUBMISSIONS if case != "qpu_target number"]


@pytest.mark.parametrize("case", _RUN_CASES, ids=_RUN_CASES)
def test_run_refuses_bad_input_before_its_qpu_lookup(client, wire, case):
    kwargs, message = BAD_SUBMISSIONS[case]
    options = {k: v for k, v in kwargs.items() if k != "circuits"}

    def run() -> None:
        circuits = kwargs["circuits"]
        items = circuits if isinstance(circuits, list) else [circuits]
        entries = [
            CircuitPayload.from_dict(c) if isinstance(c, dict) and "circuit" in c else c
            for c in items
        ]
        client.run(entries, qpu="mock", **options)

    refused(wire, run, "no installed qpi plugin" if case in _NOT_FOR_RUN else message)


@given(shots=NOT_A_SHOT_COUNT)
@FAST
def test_any_bad_shot_count_is_refused_without_a_request(server, wire, shots):
    with QPIClient(wire.url, api_token=server.api_token, cache=False) as client:
        refused(wire, lambda: client.run(BELL, shots=shots, qpu="mock"))
        refused(wire, lambda: client.submit_job([{"circuit": BELL}], shots=shots))
        if shots is not None:  # a circuit without its own shots takes the job's
            refused(wire, lambda: client.submit_job([{"circuit": BELL, "shots": shots}]))


@given(
    level=st.one_of(st.integers().filter(lambda n: n not in (0, 1, 2)), NOT_A_NUMBER),
    meas_return=st.one_of(st.text(max_size=8), st.none(), st.integers()).filter(
        lambda r: r not in ("single", "avg")
    ),
)
@FAST
def test_any_bad_measurement_option_is_refused_without_a_request(server, wire, level, meas_return):
    with QPIClient(wire.url, api_token=server.api_token, cache=False) as client:
        refused(wire, lambda: client.run(BELL, qpu="mock", meas_level=level))
        refused(wire, lambda: client.run(BELL, qpu="mock", meas_return=meas_return))
        refused(wire, lambda: client.submit_job([{"circuit": BELL}], meas_level=level))


@given(
    rows=st.lists(
        st.lists(st.one_of(st.floats(-10, 10), NOT_A_NUMBER), min_size=1, max_size=3),
        min_size=1,
        max_size=4,
    ).filter(
        lambda rows: (
            any(not isinstance(v, float) or not math.isfinite(v) for row in rows for v in row)
            or len({len(row) for row in rows}) > 1
        )
    )
)
@FAST
def test_any_bad_rows_are_refused_without_a_request(server, wire, rows):
    with QPIClient(wire.url, api_token=server.api_token, cache=False) as client:
        refused(wire, lambda: client.run(RX, parameter_values=rows, qpu="mock"))
        refused(wire, lambda: client.submit_job([{"circuit": RX, "parameter_values": rows}]))


def test_bad_neutral_circuits_are_refused_without_a_request(server, wire):
    theta = Param("theta")
    with QPIClient(wire.url, api_token=server.api_token, cache=False) as client:
        out_of_range = Circuit(2, 2).append("cx", [0, 5])
        refused(wire, lambda: client.run(out_of_range, qpu="mock"), "qubit")
        unknown_gate = Circuit(1, 1).append("nosuchgate", [0])
        refused(wire, lambda: client.run(unknown_gate, qpu="mock"))
        rx = Circuit(1, 1).append("rx", [0], [theta]).measure(0, 0)
        refused(wire, lambda: client.run(rx, parameter_values=[[0.1, 0.2]], qpu="mock"), "row 0")
        refused(wire, lambda: client.run(rx, qpu="mock"), "input")
        refused(wire, lambda: client.run(object(), qpu="mock"), "no installed qpi plugin")
        refused(
            wire,
            lambda: client.run([BELL, BELL], parameter_values=[None], qpu="mock"),
            "one entry",
        )


def test_submit_of_an_invalid_payload_object_sends_nothing(server, wire, tmp_path):
    payload = JobPayload([CircuitPayload(BELL)], shots=0)
    for mode in ("reuse", "replay", "record"):
        with QPIClient(
            wire.url, api_token=server.api_token, cache=tmp_path / mode, cache_mode=mode
        ) as client:
            refused(wire, lambda c=client: c.submit(payload), "shots")
