import pytest

from qpi import errors
from tests.client.conftest import BELL, RX, X_ON_ONE_OF_THREE


def test_submit_wait_and_read_counts(client, mock_id):
    job_id = client.submit_job([{"circuit": BELL}], shots=1000, qpu_target=mock_id)
    record = client.wait_for_job(job_id, timeout=30)
    assert record["status"] == "completed"
    assert record["id"] == job_id
    counts = record["results"]["circuit_results"][0]["counts"]
    assert set(k for k, v in counts.items() if v) <= {"00", "11"}
    assert sum(counts.values()) == 1000
    # get_job returns the same final record
    assert client.get_job(job_id)["status"] == "completed"


def test_bit_order_clbit_zero_rightmost(client, mock_id):
    job_id = client.submit_job([{"circuit": X_ON_ONE_OF_THREE}], shots=50, qpu_target=mock_id)
    counts = client.wait_for_job(job_id, timeout=30)["results"]["circuit_results"][0]["counts"]
    assert {k: v for k, v in counts.items() if v} == {"010": 50}


def test_rows_and_per_circuit_shots_flatten_circuit_major(client, mock_id):
    job_id = client.submit_job(
        [
            {"circuit": BELL, "shots": 20},
            {"circuit": RX, "parameter_values": [[0.0], [3.141592653589793]]},
        ],
        shots=50,
        qpu_target=mock_id,
    )
    results = client.wait_for_job(job_id, timeout=30)["results"]["circuit_results"]
    assert [r["shots"] for r in results] == [20, 50, 50]
    assert {k: v for k, v in results[1]["counts"].items() if v} == {"0": 50}
    assert {k: v for k, v in results[2]["counts"].items() if v} == {"1": 50}


def test_list_jobs_newest_first_and_limit(client, mock_id):
    ids = [
        client.submit_job([{"circuit": BELL}], shots=10 + i, qpu_target=mock_id) for i in range(3)
    ]
    listed = [j["id"] for j in client.list_jobs()]
    assert listed[:3] == ids[::-1]
    assert [j["id"] for j in client.list_jobs(limit=2)] == ids[::-1][:2]
    for job_id in ids:
        client.wait_for_job(job_id, timeout=30)


def test_failed_job_raises_with_driver_message(client, mock_id):
    job_id = client.submit_job(
        [{"circuit": "OPENQASM 3.0;\nqubit[1] q;\nfoo q[0];"}], qpu_target=mock_id
    )
    with pytest.raises(errors.JobFailedError, match="job .* failed: .*") as info:
        client.wait_for_job(job_id, timeout=30)
    assert info.value.job_id == job_id
    assert info.value.server_message
    assert isinstance(info.value, RuntimeError)
    record = client.wait_for_job(job_id, timeout=30, raise_on_failure=False)
    assert record["status"] == "failed"


def test_pending_job_times_out_then_cancels(client, admin, mock_id):
    admin.toggle_qpu(mock_id, False)
    try:
        job_id = client.submit_job([{"circuit": BELL}], qpu_target=mock_id)
        with pytest.raises(errors.JobTimeoutError) as info:
            client.wait_for_job(job_id, timeout=0.3)
        assert isinstance(info.value, TimeoutError)
        assert info.value.job_id == job_id
        record = client.cancel_job(job_id)
        assert record["status"] == "cancelled"
        with pytest.raises(errors.JobCancelledError):
            client.wait_for_job(job_id, timeout=5)
        with pytest.raises(errors.NotFoundError, match="already completed or cancelled"):
            client.cancel_job(job_id)
    finally:
        admin.toggle_qpu(mock_id, True)


def test_wait_reports_progress(client, mock_id):
    seen = []
    job_id = client.submit_job([{"circuit": BELL}], qpu_target=mock_id)
    client.wait_for_job(job_id, timeout=30, callback=lambda rec, t: seen.append((rec["status"], t)))
    assert seen and seen[-1][0] == "completed"
    assert all(t >= 0 for _, t in seen)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"circuits": []}, "at least one circuit"),
        ({"circuits": [{"circuit": ""}]}, "empty"),
        ({"circuits": [{"circuit": BELL}], "shots": 0}, "shots must be at least 1"),
        ({"circuits": [{"circuit": BELL}], "meas_level": 5}, "meas_level"),
        ({"circuits": [{"circuit": BELL}], "meas_return": "mean"}, "meas_return"),
    ],
)
def test_bad_input_is_refused_before_any_request(client, kwargs, message):
    before = len(client.list_jobs())
    with pytest.raises(errors.ValidationError, match=message):
        client.submit_job(**kwargs)
    assert len(client.list_jobs()) == before


def test_unknown_job_is_not_found(client):
    with pytest.raises(errors.NotFoundError, match="Job not found"):
        client.get_job("doesnotexist123")
