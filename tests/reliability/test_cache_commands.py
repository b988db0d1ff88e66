"""``qpi cache`` against hostile files and large caches (issue 16 item 11, issue 15).

An export file is as hostile as a server's answer: JSON nested too deeply once raised
``RecursionError`` and a gzip bomb ``MemoryError``. Both are now refused as a ``CacheError``
(exit status 9) and leave the cache as it was. Listing reads the database in one read-only
pass and never refreshes an entry's access time (which decides what eviction drops next).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from qpi import QPIClient, errors
from qpi.cache import Cache
from qpi.cli import main
from tests.hostile import gzip_bomb
from tests.reliability.helpers import BELL, tagged


def _access_times(directory: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(directory / "cache.db") as db:
        return db.execute("SELECT key, access_time FROM Cache ORDER BY rowid").fetchall()


@pytest.fixture(scope="module")
def filled(server, tmp_path_factory) -> Path:
    """A cache holding the results, job records and QPU records of three real jobs."""
    directory = tmp_path_factory.mktemp("filled") / "cache"
    with QPIClient(server.url, api_token=server.api_token, cache=directory) as client:
        for _ in range(3):
            client.run(tagged(BELL), shots=10, qpu="mock").result(timeout=60)
    return directory


def test_listing_and_info_never_touch_access_times(filled):
    before = _access_times(filled)
    with Cache(filled) as cache:
        listed = list(cache.entries())
        info = cache.info()
    assert len(listed) == info["count"] == len(before) >= 6
    assert {e.kind for e in listed} >= {"result", "job", "qpu"}
    assert all(e.job_id and e.stored > 0 and e.size > 0 for e in listed)
    assert _access_times(filled) == before  # nothing was refreshed, nothing written


def test_the_listing_matches_the_stored_envelopes(filled, tmp_path):
    """The one-pass summaries say what the entries themselves say (checked through export)."""
    export = tmp_path / "all.gz"
    with Cache(filled) as cache:
        listed = {(e.kind, e.key): e for e in cache.entries()}
        count = cache.export_to(export)
    document = gzip.decompress(export.read_bytes())
    for envelope in json.loads(document)["entries"]:
        entry = listed[(envelope["kind"], envelope["key"])]
        assert entry.stored == envelope["stored"] and entry.server == envelope["server"]
        record = envelope["data"].get("record", {})
        if envelope["kind"] in ("result", "job"):
            assert entry.status == record["status"] and entry.job_id == envelope["data"]["job_id"]
    assert count == len([e for e in listed.values() if e.kind != "submitted"])


def _import(path: Path, cache_dir: Path):
    return CliRunner().invoke(main, ["--cache-dir", str(cache_dir), "cache", "import", str(path)])


def test_a_deeply_nested_export_is_refused(tmp_path):
    path = tmp_path / "nested.qpicache.gz"
    path.write_bytes(gzip.compress(b"[" * 200_000 + b"]" * 200_000))
    with Cache(tmp_path / "cache") as cache, pytest.raises(errors.CacheError, match="nested"):
        cache.import_from(path)
    result = _import(path, tmp_path / "cache")
    assert result.exit_code == 9, result.output
    assert "nested too deeply" in result.output and "Traceback" not in result.output


def test_a_gzip_bomb_export_is_refused_without_decompressing_it(tmp_path):
    path = tmp_path / "bomb.qpicache.gz"
    path.write_bytes(gzip_bomb(64 * 1024 * 1024))  # 64 MiB of zeros in ~64 kB
    with Cache(tmp_path / "cache") as cache:
        tracemalloc.start()
        try:
            with pytest.raises(errors.CacheError, match="far more than an export"):
                cache.import_from(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert list(cache.entries()) == []
    assert peak < 40 * 1024 * 1024, peak
    result = _import(path, tmp_path / "cache")
    assert result.exit_code == 9 and "far more than an export" in result.output
