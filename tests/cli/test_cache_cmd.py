"""`qpi cache info|list|export|import|clear|prune`, and replaying an imported export."""

from __future__ import annotations

import json

import click
import pytest

from qpi.cli.cache import parse_age


def test_cache_round_trip_through_an_export(qpi, auth, bell_file, tmp_path, monkeypatch) -> None:
    ran = json.loads(qpi("run", str(bell_file), "-s", "128", "--json", *auth).stdout)

    info = json.loads(qpi("cache", "info", "--json").stdout)
    assert info["directory"] == str(tmp_path / "cache")
    assert info["counts"]["result"] == 1 and info["counts"]["job"] == 1
    assert "entries" in qpi("cache", "info").stdout

    entries = json.loads(qpi("cache", "list", "--json").stdout)
    # The submission entry is dropped once the result is stored (it answers from then on).
    assert {e["kind"] for e in entries} == {"result", "job", "qpu"}
    results = json.loads(qpi("cache", "list", "--kind", "result", "--json").stdout)
    assert [e["job_id"] for e in results] == [ran["job_id"]]
    assert ran["job_id"] in qpi("cache", "list").stdout

    export = tmp_path / "results.qpicache.gz"
    exported = qpi("cache", "export", str(export), "--json")
    assert json.loads(exported.stdout)["entries"] >= 3
    assert auth[3] not in export.read_bytes().decode("latin-1")  # no token in the file

    cleared = qpi("cache", "clear", "--yes")
    assert cleared.exit_code == 0 and "Removed" in cleared.stdout
    assert json.loads(qpi("cache", "info", "--json").stdout)["count"] == 0
    assert qpi("cache", "list").stdout.strip() == "The cache is empty."

    # Another machine: a fresh cache, the export imported, no server needed in replay mode.
    monkeypatch.setenv("QPI_CACHE_DIR", str(tmp_path / "elsewhere"))
    imported = qpi("cache", "import", str(export))
    assert imported.exit_code == 0 and "Imported" in imported.stdout
    replayed = qpi(
        "run", str(bell_file), "-s", "128", "--json", "--cache-mode", "replay", *auth[:2]
    )
    assert replayed.exit_code == 0, replayed.stderr
    again = json.loads(replayed.stdout)
    assert again["from_cache"] is True
    assert again["experiments"] == ran["experiments"]


def test_export_one_job(qpi, auth, bell_file, tmp_path) -> None:
    first = json.loads(qpi("run", str(bell_file), "-s", "10", "--json", *auth).stdout)
    qpi("run", str(bell_file), "-s", "11", *auth)
    path = tmp_path / "one.gz"
    result = qpi("cache", "export", str(path), "--job", first["job_id"])
    assert result.exit_code == 0
    assert "Exported" in result.stdout


def test_prune(qpi, auth, bell_file) -> None:
    qpi("run", str(bell_file), "-s", "12", *auth)
    assert json.loads(qpi("cache", "prune", "--json").stdout) == {"removed": 0}
    removed = json.loads(qpi("cache", "prune", "--older-than", "0s", "--json").stdout)
    assert removed["removed"] >= 4
    assert json.loads(qpi("cache", "info", "--json").stdout)["count"] == 0
    assert qpi("cache", "prune", "--older-than", "soon").exit_code == 2


def test_clear_without_a_terminal_needs_yes(qpi) -> None:
    result = qpi("cache", "clear")
    assert result.exit_code == 2
    assert "--yes" in result.stderr


def test_cache_dir_option_and_profile(qpi, tmp_path) -> None:
    other = tmp_path / "other-cache"
    info = json.loads(qpi("cache", "info", "--cache-dir", str(other), "--json").stdout)
    assert info["directory"] == str(other)


def test_cache_path_that_is_a_file(qpi, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert qpi("cache", "info", "--cache-dir", str(blocker)).exit_code == 2  # click sees it
    monkeypatch.setenv("QPI_CACHE_DIR", str(blocker))
    result = qpi("cache", "info")
    assert result.exit_code == 9
    assert "is a file" in result.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("12h", 43200), ("30d", 2592000), ("2w", 1209600)],
)
def test_parse_age(text, seconds) -> None:
    assert parse_age(text) == seconds


def test_parse_age_refuses_nonsense() -> None:
    with pytest.raises(click.BadParameter):
        parse_age("-1d")


@pytest.mark.parametrize(
    "text",
    [b'{"v": 2, "kind": "\xff\xfe"}', "[" * 100_000 + "]" * 100_000, '{"v": 2, "data": 3}'],
    ids=["invalid-utf8", "deeply-nested", "wrong-shape"],
)
@pytest.mark.parametrize("command", ["list", "export", "prune"])
def test_damaged_entries_are_dropped_with_a_warning_by_every_command(
    qpi, auth, bell_file, tmp_path, text, command
) -> None:
    import diskcache

    qpi("run", str(bell_file), "-s", "13", *auth)
    key = '["result","http://127.0.0.1:1#token:x","' + "0" * 64 + '.0"]'
    with diskcache.Cache(str(tmp_path / "cache")) as raw:
        raw[key] = text  # damaged on disk, as a crash or another program might leave it
    args = {
        "list": ["cache", "list"],
        "export": ["cache", "export", str(tmp_path / "out.gz")],
        "prune": ["cache", "prune", "--older-than", "1h"],
    }[command]
    result = qpi(*args)
    assert result.exit_code == 0, result.stderr
    assert "dropped a damaged cache entry" in result.stderr
    assert qpi(*args).exit_code == 0  # and it is gone
