from concurrent.futures import ThreadPoolExecutor

from tests.client.conftest import BELL


def test_one_client_shared_by_many_threads(client, mock_id):
    def work(i):
        job_id = client.submit_job([{"circuit": BELL}], shots=100 + i, qpu_target=mock_id)
        record = client.wait_for_job(job_id, timeout=60)
        return job_id, record["results"]["circuit_results"][0]["shots"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(16)))
    assert len({job_id for job_id, _ in results}) == 16
    assert [shots for _, shots in results] == [100 + i for i in range(16)]
