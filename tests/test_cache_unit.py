"""The cache store on its own, driven through its Store protocol (it never sees a client)."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import multiprocessing
import pickle
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import diskcache
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qpi.cache import (
    EXPORT_VERSION,
    Cache,
    CacheEntry,
    CacheWarning,
    Scope,
    Store,
    StoredResult,
    Submission,
    normalise_server,
)
from qpi.errors import CacheError, ValidationError
from qpi.payload import CircuitPayload, JobPayload, canonical_json

BELL = "OPENQASM 3.0;\nbit[2] c;\nqubit[2] q;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n"
SERVER = "http://localhost:8090"
SECRET = "qpi_7d1c0ffee5ecret7oken"


def scope(server: str = SERVER, identity: str = "token:alice") -> Scope:
    return Scope(normalise_server(server), identity)


ALICE = scope()


def payload(shots: int = 100, target: str = "qpu1", tag: str = "") -> JobPayload:
    circuit = BELL + (f"// {tag}\n" if tag else "")
    return JobPayload([CircuitPayload(circuit)], shots=shots, qpu_target=target)


def record(job_id: str, p: JobPayload, status: str = "completed", **extra) -> dict:
    out = {"id": job_id, "status": status, "payload": p.to_dict(), "qpu_target": p.qpu_target}
    if status == "completed":
        half = p.shots // 2
        out["results"] = {
            "circuit_results": [{"counts": {"00": half, "11": p.shots - half}, "shots": p.shots}],
            "backend": "mock",
        }
        out.update(duration=0.25, finished_at="2026-01-01 00:00:01.000Z")
    elif status == "failed":
        out["results"] = {"error": "the driver refused the circuit"}
    out.update(created="2026-01-01 00:00:00.000Z", **extra)
    return out


NONCE = "0123456789abcdef" * 2


def submit(cache: Cache, who: Scope, p: JobPayload, job_id: str | None, k: int = 0) -> None:
    cache.save_submission(who, p, k, Submission(NONCE, job_id))


def complete(cache: Cache, who: Scope, p: JobPayload, job_id: str, k: int = 0, **extra) -> None:
    """What the runner does for a job: its tag, its id, then its final record."""
    submit(cache, who, p, None, k)
    submit(cache, who, p, job_id, k)
    final = record(job_id, p, **extra)
    if final["status"] == "completed":
        cache.save_result(who, p, k, job_id, final)
    else:
        cache.save_job(who, job_id, final)
        cache.forget_submission(who, p, k)


def ask(cache: Cache, who: Scope, p: JobPayload, k: int = 0) -> StoredResult | None:
    return cache.result(who, p, k)


def raw_key(kind: str, server: str, name: str) -> str:
    """The on-disk key of an entry (part of the cache's file format)."""
    return canonical_json([kind, server, name])


@pytest.fixture
def cache(tmp_path: Path):
    with Cache(tmp_path / "cache") as c:
        yield c


# -- keys and modes ----------------------------------------------------------------------------


def test_server_urls_are_normalised_and_lose_credentials():
    assert normalise_server("HTTP://LocalHost:8090/") == "http://localhost:8090"
    assert normalise_server("https://qpi.example:443/api/") == "https://qpi.example/api"
    assert normalise_server("http://user:pw@qpi.example:80") == "http://qpi.example"
    assert normalise_server("localhost:8090") == "http://localhost:8090"
    assert normalise_server("http://[::1]:8090") == "http://[::1]:8090"


def test_the_cache_implements_the_store_protocol(cache):
    assert isinstance(cache, Store)


def test_entries_are_kept_per_server_and_identity(cache):
    p = payload()
    complete(cache, ALICE, p, "job-a")
    assert ask(cache, scope("http://LOCALHOST:8090/"), p).job_id == "job-a"
    assert ask(cache, scope("http://localhost:8091"), p) is None
    assert ask(cache, scope(identity="token:bob"), p) is None  # another token, same directory
    assert cache.job(scope(identity="token:bob"), "job-a") is None
    assert cache.job(scope("http://other:8090"), "job-a") is None
    assert cache.job(ALICE, "job-a")["id"] == "job-a"


def test_results_are_kept_per_occurrence(cache):
    p = payload()
    for k in range(3):
        complete(cache, ALICE, p, f"j{k}", k=k)
    assert [ask(cache, ALICE, p, k).job_id for k in range(3)] == ["j0", "j1", "j2"]
    assert ask(cache, ALICE, p, 3) is None
    assert sorted(e.key for e in cache.entries("result")) == [
        f"{p.fingerprint()}.{k}" for k in range(3)
    ]


def test_a_submission_is_stored_before_and_after_its_post(cache):
    p = payload()
    assert cache.submission(ALICE, p, 0) is None
    submit(cache, ALICE, p, None)
    assert cache.submission(ALICE, p, 0) == Submission(NONCE, None)
    submit(cache, ALICE, p, "j1")
    assert cache.submission(ALICE, p, 0) == Submission(NONCE, "j1")
    assert cache.submission(ALICE, p, 1) is None
    cache.save_result(ALICE, p, 0, "j1", record("j1", p))
    assert cache.submission(ALICE, p, 0) is None  # the result answers from now on
    stored = ask(cache, ALICE, p)
    assert stored.record["results"]["backend"] == "mock"


def test_liveness_decides_whether_a_submission_is_kept(cache):
    p = payload()
    submit(cache, ALICE, p, "j1")
    assert cache.submission(ALICE, p, 0, alive=lambda job_id: True).job_id == "j1"
    asked = []
    assert cache.submission(ALICE, p, 0, alive=lambda job_id: asked.append(job_id)) is None
    assert asked == ["j1"]
    assert list(cache.entries("submitted")) == []  # forgotten


def test_distinct_payloads_never_answer_each_other(cache):
    variants = [payload(shots=100), payload(shots=101), payload(target="qpu2"), payload(tag="x")]
    for i, p in enumerate(variants):
        complete(cache, ALICE, p, f"j{i}")
    for i, p in enumerate(variants):
        assert ask(cache, ALICE, p).job_id == f"j{i}"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shots=st.integers(1, 10_000),
    rows=st.one_of(
        st.none(),
        st.lists(st.lists(st.floats(-10, 10), min_size=1, max_size=1), min_size=1, max_size=3),
    ),
)
def test_a_hit_is_always_for_the_same_payload(cache, shots, rows):
    circuit = BELL.replace("bit[2] c;", "input float[64] t;\nbit[2] c;") if rows else BELL
    p = JobPayload([CircuitPayload(circuit, rows)], shots=shots, qpu_target="q")
    job_id = p.fingerprint()[:12]
    n = p.num_experiments
    final = {
        "id": job_id,
        "status": "completed",
        "results": {"circuit_results": [{"counts": {"0": shots}, "shots": shots}] * n},
    }
    cache.save_result(ALICE, p, 0, job_id, final)
    hit = ask(cache, ALICE, p)
    assert hit.job_id == job_id and hit.record["results"] == final["results"]


# -- damaged entries, failed jobs, lookups -----------------------------------------------------


def test_tampered_entry_is_dropped_not_returned(cache):
    p = payload()
    complete(cache, ALICE, p, "j1")
    key = raw_key("result", ALICE.key, f"{p.fingerprint()}.0")
    with diskcache.Cache(str(cache.directory)) as raw:
        entry = json.loads(raw[key])
        entry["data"]["payload"] = payload(shots=999).to_json()  # no longer its fingerprint
        raw[key] = canonical_json(entry)
    with pytest.warns(CacheWarning, match="fingerprint"):
        assert ask(cache, ALICE, p) is None
    assert list(cache.entries("result")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"v": 2, "kind": "res', "not valid JSON"),
        (b'{"v": 2, "kind": "\xff\xfe"}', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply|not valid JSON"),
        ('{"v": 2, "kind": "result", "server": 1, "key": 2, "stored": 0, "data": []}', "not text"),
        ("[1, 2, 3]", "not a JSON object"),
    ],
    ids=["truncated", "invalid-utf8", "deeply-nested", "wrong-shape", "a-list"],
)
def test_damaged_entry_is_a_miss_with_a_warning(cache, tmp_path, text, message):
    p = payload()

    def damage() -> None:
        with diskcache.Cache(str(cache.directory)) as raw:
            raw[raw_key("result", ALICE.key, f"{p.fingerprint()}.0")] = text

    damage()
    with pytest.warns(CacheWarning, match=message):
        assert ask(cache, ALICE, p) is None  # a run
    assert cache.info()["count"] == 0
    damage()
    with pytest.warns(CacheWarning, match=message):
        assert list(cache.entries()) == []  # qpi cache list
    damage()
    with pytest.warns(CacheWarning, match=message):
        assert cache.export_to(tmp_path / "out.gz") == 0  # qpi cache export
    damage()
    with pytest.warns(CacheWarning, match=message):
        assert cache.prune(older_than=3600) == 1  # qpi cache prune
    assert cache.info()["count"] == 0


def test_pickled_entry_is_never_loaded(cache, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    p = payload()
    with diskcache.Cache(str(cache.directory)) as raw:
        raw[raw_key("result", ALICE.key, f"{p.fingerprint()}.0")] = Payload()  # a pickle
        raw[("a", "tuple", "key")] = "pickled key"
    with pytest.warns(CacheWarning, match="pickle"):
        assert ask(cache, ALICE, p) is None
    assert list(cache.entries()) == []
    assert not marker.exists()
    pickle.loads(pickle.dumps(Payload()))  # the control: loading it would have acted
    assert marker.exists()


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_or_cancelled_job_keeps_its_record_but_no_result(cache, status):
    p = payload()
    complete(cache, ALICE, p, "j1", status=status)
    assert ask(cache, ALICE, p) is None
    assert cache.submission(ALICE, p, 0) is None  # submit again rather than re-attach
    assert cache.job(ALICE, "j1")["status"] == status
    assert list(cache.entries("result")) == []


def test_non_final_records_are_not_stored(cache):
    p = payload()
    cache.save_job(ALICE, "j1", {"id": "j1", "status": "running"})
    cache.save_result(ALICE, p, 0, "j1", {"id": "j1", "status": "running"})
    assert cache.info()["count"] == 0


def test_job_and_qpu_lookups(cache):
    complete(cache, ALICE, payload(), "j1")
    assert cache.job(ALICE, "j1")["id"] == "j1"
    assert cache.job(ALICE, "nope") is None
    qpu = {"id": "q1w2e3", "name": "mock", "status": "online"}
    cache.save_qpu(ALICE, "", qpu)
    for name in ("", "mock", "q1w2e3"):
        assert cache.qpu(ALICE, name) == qpu
    cache.save_qpu(ALICE, "q9", {"id": "q9", "name": "aer"})
    assert cache.qpu(ALICE, "")["id"] == "q1w2e3"  # default untouched
    assert cache.qpu(ALICE, "aer")["id"] == "q9"


# -- management --------------------------------------------------------------------------------


def test_info_entries_and_prune(cache):
    client = ALICE
    complete(cache, client, payload(), "j1")
    cache.save_qpu(client, "mock", {"id": "q1", "name": "mock"})
    info = cache.info()
    assert info["directory"] == str(cache.directory)
    assert info["size"] > 0 and info["size_limit"] == 1 << 30
    assert info["counts"] == {"result": 1, "submitted": 0, "job": 1, "qpu": 2}
    results = list(cache.entries("result"))
    assert len(results) == 1
    entry = results[0]
    assert isinstance(entry, CacheEntry)
    assert (entry.kind, entry.server, entry.key, entry.job_id) == (
        "result",
        ALICE.key,
        f"{payload().fingerprint()}.0",
        "j1",
    )
    assert entry.status == "completed" and entry.created.startswith("2026") and entry.size > 100
    with pytest.raises(ValidationError, match="kind must be one of"):
        cache.entries("bogus")
    assert cache.prune() == 0
    assert cache.prune(older_than=3600) == 0
    assert cache.prune(older_than=0) == 4
    complete(cache, client, payload(), "j1")
    cache.clear()
    assert cache.info()["count"] == 0


def test_size_limit_evicts_least_recently_used(tmp_path):
    with Cache(tmp_path / "small", size_limit=300_000) as cache:
        assert cache.size_limit == 300_000
        client = ALICE
        for i in range(120):
            record = {"id": f"q{i}", "name": f"n{i}", "notes": "x" * 8_000}
            cache.save_qpu(client, f"n{i}", record)
        cache.prune()
        assert cache.info()["count"] < 2 * 120
        assert cache.qpu(client, "n119") is not None  # newest kept
        assert cache.qpu(client, "n0") is None  # oldest evicted


def test_constructor_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("QPI_CACHE_DIR", str(tmp_path / "from-env"))
    with Cache() as cache:
        assert cache.directory == tmp_path / "from-env"
        assert repr(cache) == f"Cache({str(tmp_path / 'from-env')!r}, size_limit={1 << 30})"
    with pytest.raises(ValidationError):
        Cache(tmp_path / "x", size_limit=0)


# -- export and import -------------------------------------------------------------------------


def filled(cache: Cache) -> list[JobPayload]:
    client = ALICE
    ps = [payload(shots=100 + i, target="q1" if i % 2 else "q2") for i in range(4)]
    for i, p in enumerate(ps):
        complete(cache, client, p, f"j{i}")
    complete(cache, client, payload(tag="failed"), "jf", status="failed")
    for qid, name in (("q1", "mock"), ("q2", "aer")):
        cache.save_qpu(client, name, {"id": qid, "name": name})
    return ps


def test_export_import_round_trip(cache, tmp_path):
    ps = filled(cache)
    path = tmp_path / "share.qpicache.gz"
    written = cache.export_to(path)
    assert written == 4 + 5 + 4  # results, job records (one failed), QPUs by name and id
    with Cache(tmp_path / "other") as other:
        assert other.import_from(path) == written
        replay = ALICE
        for i, p in enumerate(ps):
            assert ask(other, replay, p).record == ask(cache, replay, p).record
            assert ask(other, replay, p).job_id == f"j{i}"
        assert other.info()["counts"]["submitted"] == 0  # never exported
        assert other.qpu(replay, "mock")["id"] == "q1"
        assert other.job(replay, "jf")["status"] == "failed"
        assert other.import_from(path) == written  # importing again replaces, adds nothing
        assert other.info()["count"] == written


def test_export_selected_jobs_carries_their_qpus(cache, tmp_path):
    ps = filled(cache)
    path = tmp_path / "one.gz"
    assert cache.export_to(path, job_ids=["j1"]) == 4  # result, job, QPU q1 by name and id
    assert cache.export_to(path, fingerprints=[ps[0].fingerprint(), ps[2].fingerprint()]) == 6
    with Cache(tmp_path / "other") as other:
        other.import_from(path)
        kinds = sorted((e.kind, e.key) for e in other.entries())
        assert ("qpu", "aer") in kinds and ("qpu", "mock") not in kinds
        assert ask(other, ALICE, ps[2]).job_id == "j2"


def rewrite(path: Path, change) -> None:
    document = json.loads(gzip.decompress(path.read_bytes()))
    change(document)
    path.write_bytes(gzip.compress(json.dumps(document).encode()))


def redigest(document: dict) -> None:
    document["sha256"] = hashlib.sha256(canonical_json(document["entries"]).encode()).hexdigest()


def break_result_key(document: dict) -> None:
    entry = next(e for e in document["entries"] if e["kind"] == "result")
    entry["key"] = "0" * 64 + ".0"
    redigest(document)


def swap_counts(document: dict) -> None:
    entry = next(e for e in document["entries"] if e["kind"] == "result")
    entry["data"]["record"]["results"]["circuit_results"][0]["counts"] = {"01": 100}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated"),
        (lambda p: p.write_bytes(b"not gzip at all"), "not a gzip"),
        (lambda p: p.write_bytes(gzip.compress(b"{nope")), "does not hold JSON"),
        (lambda p: rewrite(p, swap_counts), "SHA-256 digest"),
        (lambda p: rewrite(p, lambda d: d.update(version=EXPORT_VERSION + 1)), "version"),
        (lambda p: rewrite(p, lambda d: d.update(format="something-else")), "not a qpi cache"),
        (lambda p: rewrite(p, lambda d: d["entries"].pop()), "truncated"),
        (lambda p: rewrite(p, break_result_key), "fingerprint of its stored payload"),
    ],
    ids=["truncated", "not-gzip", "not-json", "tampered", "version", "format", "short", "bad-key"],
)
def test_bad_exports_are_refused_and_nothing_is_imported(cache, tmp_path, damage, message):
    filled(cache)
    path = tmp_path / "share.gz"
    cache.export_to(path)
    damage(path)
    with Cache(tmp_path / "other") as other:
        complete(other, ALICE, payload(tag="mine"), "mine")
        before = sorted((e.kind, e.key) for e in other.entries())
        with pytest.raises(CacheError, match=message):
            other.import_from(path)
        assert sorted((e.kind, e.key) for e in other.entries()) == before


def test_export_errors_are_cache_errors(cache, tmp_path):
    with pytest.raises(CacheError, match="could not write"):
        cache.export_to(tmp_path / "missing-dir" / "x.gz")
    with pytest.raises(CacheError, match="cannot read"):
        cache.import_from(tmp_path / "absent.gz")


# -- damage and full disks ---------------------------------------------------------------------


def test_path_that_is_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("hello")
    with pytest.raises(CacheError, match="is a file, not a directory"):
        Cache(target)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_unreadable_database_is_moved_aside_and_rebuilt(tmp_path, how):
    directory = tmp_path / "cache"
    with Cache(directory) as cache:
        for i in range(200):
            cache.save_qpu(ALICE, f"n{i}", {"id": f"q{i}", "pad": "x" * 500})
    db = directory / "cache.db"
    if how == "garbage":
        db.write_bytes(b"\x00garbage" * 1000)
    else:
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    for leftover in directory.glob("cache.db-*"):
        leftover.unlink()
    with pytest.warns(CacheWarning, match="damaged .* moved to"):
        cache = Cache(directory)
    with cache:
        assert cache.info()["count"] == 0
        complete(cache, ALICE, payload(), "j1")
        assert ask(cache, ALICE, payload()).job_id == "j1"
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("cache.corrupt-")]
    assert len(aside) == 1 and (aside[0] / "cache.db").exists()


def test_damage_found_while_in_use_rebuilds(tmp_path):
    directory = tmp_path / "cache"
    client = ALICE
    with Cache(directory) as cache:
        for i in range(300):
            cache.save_qpu(client, f"n{i}", {"id": f"q{i}", "pad": "x" * 300})
    db = directory / "cache.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2 : 3 * len(data) // 4] = b"\xff" * (len(data) // 4)
    db.write_bytes(bytes(data))
    with Cache(directory) as cache:  # the first pages are intact, so it opens
        with pytest.warns(CacheWarning, match="damaged"):
            assert cache.qpu(client, "n150") is None
        complete(cache, client, payload(), "j1")
        assert cache.info()["counts"]["result"] == 1


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def disk_full_in_sqlite(*args, **kwargs):
    raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize(
    ("target", "fault"),
    [("diskcache.Disk.store", no_space), ("diskcache.Cache.set", disk_full_in_sqlite)],
    ids=["ENOSPC", "sqlite-full"],
)
def test_full_disk_degrades_to_warnings(cache, monkeypatch, target, fault):
    p = payload()
    monkeypatch.setattr(target, fault)
    with pytest.warns(CacheWarning, match="could not write .*(No space|disk is full)"):
        submit(cache, ALICE, p, "j1")
    with pytest.warns(CacheWarning, match="could not write the result of job j1"):
        cache.save_result(ALICE, p, 0, "j1", record("j1", p))
    with pytest.warns(CacheWarning, match="could not write QPU"):
        cache.save_qpu(ALICE, "mock", {"id": "q1"})
    assert ask(cache, ALICE, p) is None  # nothing half-written
    monkeypatch.undo()
    complete(cache, ALICE, p, "j2")  # space again: the cache works as before
    assert ask(cache, ALICE, p).job_id == "j2"


def test_a_full_disk_at_open_gives_a_read_only_cache_that_still_answers(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    p = payload()
    with Cache(directory) as cache:
        complete(cache, ALICE, p, "j1")
        cache.save_qpu(ALICE, "mock", {"id": "q1", "name": "mock"})

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("diskcache.Cache.__init__", full)  # a new process cannot open it
    with pytest.warns(CacheWarning, match="opened read-only"):
        cache = Cache(directory)
    with cache:
        assert ask(cache, ALICE, p).job_id == "j1"
        assert cache.qpu(ALICE, "mock")["id"] == "q1"
        assert cache.info()["counts"] == {"result": 1, "submitted": 0, "job": 1, "qpu": 2}
        assert cache.export_to(tmp_path / "out.gz") == 4
        with pytest.warns(CacheWarning, match="could not write .*read-only"):
            complete(cache, ALICE, payload(shots=7), "j2")
        with pytest.raises(CacheError, match="read-only"):
            cache.clear()
    with pytest.raises(CacheError, match="cannot open"):
        Cache(tmp_path / "never-written")  # nothing to read: the usual error


def test_unreadable_store_is_a_miss_in_runs_and_an_error_in_management(cache, monkeypatch):
    complete(cache, ALICE, payload(), "j1")

    def locked(*args, **kwargs):
        raise diskcache.Timeout("database is locked")

    monkeypatch.setattr("diskcache.Cache.get", locked)
    with pytest.warns(CacheWarning, match="could not read"):
        assert ask(cache, ALICE, payload()) is None

    # Management reads the database in one read-only pass of its own: lock that out too.
    def refused(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr("sqlite3.connect", refused)
    with pytest.raises(CacheError, match="could not be read"):
        list(cache.entries())


# -- secrets -----------------------------------------------------------------------------------


def test_no_secret_reaches_the_files_or_exports(cache, tmp_path):
    client = scope(f"http://alice:{SECRET}@localhost:8090")
    p = payload()
    complete(cache, client, p, "j1", token=SECRET, nested={"password": SECRET, "keep": 1})
    cache.save_qpu(client, "mock", {"id": "q1", "access_token": SECRET})
    assert cache.job(client, "j1")["nested"] == {"keep": 1}
    export = tmp_path / "share.gz"
    cache.export_to(export)
    cache.close()
    blobs = [f.read_bytes() for f in cache.directory.rglob("*") if f.is_file()]
    blobs.append(gzip.decompress(export.read_bytes()))
    assert blobs and not any(SECRET.encode() in blob for blob in blobs)


# -- many processes ----------------------------------------------------------------------------

PER_WORKER = 25


def worker(args: tuple[str, int]) -> list[str]:
    """Write this worker's entries and read everyone's; return what looked wrong."""
    directory, w = args
    problems = []
    client = ALICE
    with Cache(directory) as cache:
        for i in range(PER_WORKER):
            complete(cache, client, payload(shots=100 + i, tag=f"w{w}"), f"w{w}-{i}")
            got = ask(cache, client, payload(shots=100 + i, tag=f"w{w}"))
            if got is None or got.job_id != f"w{w}-{i}":
                problems.append(f"own w{w}-{i}: {got!r}")
            other = (w + 1 + i) % 8
            seen = ask(cache, client, payload(shots=100 + i, tag=f"w{other}"))
            # Not there yet, or its result.
            if seen is not None and seen.job_id != f"w{other}-{i}":
                problems.append(f"crossed w{other}-{i}: {seen!r}")
    return problems


def test_eight_processes_share_one_cache(tmp_path):
    directory = str(tmp_path / "shared")
    Cache(directory).close()  # created once, like a client would
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        problems = pool.map(worker, [(directory, w) for w in range(8)], chunksize=1)
    assert problems == [[]] * 8
    with Cache(directory) as cache:
        assert cache.info()["counts"] == {
            "result": 8 * PER_WORKER,
            "submitted": 0,
            "job": 8 * PER_WORKER,
            "qpu": 0,
        }
        client = ALICE
        for w in range(8):
            for i in range(PER_WORKER):
                got = ask(cache, client, payload(shots=100 + i, tag=f"w{w}"))
                assert got.job_id == f"w{w}-{i}"


def test_threads_share_one_cache_instance(cache):
    def run(w: int) -> list[str]:
        client = ALICE
        wrong = []
        for i in range(20):
            p = payload(shots=100 + i, tag=f"t{w}")
            complete(cache, client, p, f"t{w}-{i}")
            if ask(cache, client, p).job_id != f"t{w}-{i}":
                wrong.append(f"t{w}-{i}")
        return wrong

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(run, range(8))) == [[]] * 8
    assert cache.info()["counts"]["result"] == 8 * 20
