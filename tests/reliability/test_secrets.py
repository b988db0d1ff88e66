"""Secrets: stored hashed, compared in constant time, never logged, printed, cached or exported.

A session of real traffic (successful and failed logins, tokens made and revoked, jobs run,
forged credentials) is run against a server, and then every place a secret could leak is
searched for every secret the session used: the SQLite files, the server's and the client's
log records, the process output, ``qpi serve``'s output, reprs and tracebacks, cache files and
exports. Login attempts are rate-limited; private files are 0600 whatever the umask.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import hmac
import logging
import os
import pickle
import stat
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from qpi import QPIClient, errors
from qpi.cache import Cache
from qpi.config import resolve
from qpi.server import LocalServer
from qpi.server.auth import Identity, TokenSigner
from qpi.transport import Credentials, RetryPolicy, Transport
from tests.reliability.helpers import (
    BELL,
    SECRET_SHAPES,
    report,
    serving,
    tagged,
)
from tests.server.helpers import Account, admin_session, login, make_account, session

NO_RETRIES = RetryPolicy(attempts=1)
SERVER_SOURCES = Path(__file__).resolve().parents[2] / "qpi" / "server"


class Recorder(logging.Handler):
    """Keeps every log record, fully formatted (message, arguments and traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


LOGGERS = ("", "qpi", "qpi.server", "uvicorn", "uvicorn.error", "uvicorn.access", "urllib3")


class Recording:
    """Records every logger's records, at DEBUG, until stopped."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.levels = {name: logging.getLogger(name).level for name in LOGGERS}
        logging.getLogger().addHandler(self.recorder)
        self.loud()

    def loud(self) -> None:
        """Set every logger to DEBUG (again: starting uvicorn sets its own levels)."""
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.DEBUG)
            logger.disabled = False
            if not logger.propagate and self.recorder not in logger.handlers:
                logger.addHandler(self.recorder)  # uvicorn's own loggers stop at themselves

    @property
    def lines(self) -> list[str]:
        return self.recorder.lines

    def stop(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(self.recorder)
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def recorded_logs() -> Iterator[Recording]:
    recording = Recording()
    try:
        yield recording
    finally:
        recording.stop()


class Secrets:
    """Every secret a session handled, and where to look for them."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str | None) -> None:
        self.values.update(v for v in values if v)

    def found_in(self, text: str | bytes) -> list[str]:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        return sorted(s[:12] + "..." for s in self.values if s in text)


def busy_session(srv: LocalServer, secrets: Secrets) -> dict:
    """Real traffic with every kind of credential; returns what it made."""
    secrets.add(srv.api_token, srv.admin_password, srv.user_password)
    admin = admin_session(srv.url, srv.admin_email, srv.admin_password)
    secrets.add(admin.http.headers["Authorization"].removeprefix("Bearer "))
    alice = make_account(srv.url, admin)
    secrets.add(alice.password, alice.token)
    jwt = login(srv.url, alice.email, alice.password)
    secrets.add(jwt)
    extra = alice.api.post("/api/tokens", json={"name": "extra"}).json()
    secrets.add(extra["token"])
    revoked = alice.api.post("/api/tokens", json={"name": "revoked"}).json()
    secrets.add(revoked["token"])
    assert alice.api.delete(f"/api/tokens/{revoked['id']}").status_code == 200
    qpu = admin.post("/api/op/qpus/create", json={"name": f"s-{uuid.uuid4().hex[:6]}"}).json()
    secrets.add(qpu["access_token"])
    connect = {"name": qpu["name"], "access_token": qpu["access_token"]}
    assert session(srv.url).post("/api/op/qpus/connect", json=connect).status_code == 200
    # Failed logins: wrong passwords are secrets too (often a typo of the real one).
    for guess in (alice.password[:-1], "Guess-" + uuid.uuid4().hex, srv.admin_password + "x"):
        secrets.add(guess)
        for collection, who in (("users", alice.email), ("_superusers", srv.admin_email)):
            answer = session(srv.url).post(
                f"/api/collections/{collection}/auth-with-password",
                json={"identity": who, "password": guess},
            )
            assert answer.status_code == 400
    # Forged and unknown credentials.
    forged = "qpi_" + uuid.uuid4().hex * 2
    secrets.add(forged)
    assert session(srv.url, {"X-API-Token": forged}).get("/api/jobs").status_code == 401
    assert session(srv.url, {"X-API-Token": revoked["token"]}).get("/api/jobs").status_code == 401
    # Jobs, a failing one included, through the SDK with a password login.
    with QPIClient(srv.url, cache=False) as client:
        client.auth_with_password(alice.email, alice.password)
        client.run(tagged(BELL), shots=10, qpu=qpu["id"]).result(timeout=60)
        with pytest.raises(errors.JobFailedError):
            bad = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nnope q[0];\n'
            client.run(tagged(bad), shots=10, qpu=qpu["id"]).result(timeout=60)
    return {"alice": alice, "qpu": qpu, "extra": extra}


def _search_shapes(text: str, allowed: set[str]) -> list[str]:
    return [m for shape in SECRET_SHAPES for m in shape.findall(text) if m not in allowed]


# -- storage -----------------------------------------------------------------------------------


def test_tokens_and_passwords_are_stored_only_as_hashes(tmp_path):
    secrets = Secrets()
    with LocalServer(data_dir=tmp_path / "data", workers=1) as srv:
        made = busy_session(srv, secrets)
        raw_tokens = [srv.api_token, made["alice"].token, made["extra"]["token"]]
        files = sorted((tmp_path / "data").glob("qpi.sqlite3*"))
        blobs = b"".join(path.read_bytes() for path in files)
    assert len(files) >= 1 and blobs
    assert secrets.found_in(blobs) == []  # no token, password or JWT, in the DB or its WAL
    for raw in raw_tokens:  # what is there is the SHA-256 of each token
        assert hashlib.sha256(raw.encode()).hexdigest().encode() in blobs
    assert b"scrypt$" in blobs  # passwords: salted scrypt hashes
    report("tokens stored hashed", secrets_searched=len(secrets.values), found_in_database=0)


# -- constant-time comparison ------------------------------------------------------------------


class CompareSpy:
    """Wraps ``hmac.compare_digest`` and records its calls (the behaviour is unchanged)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.real = hmac.compare_digest

    def __call__(self, a, b) -> bool:
        self.calls.append((a, b))
        return self.real(a, b)


def test_credentials_are_checked_with_compare_digest(server, monkeypatch):
    spy = CompareSpy()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    digest = hashlib.sha256(server.api_token.encode()).hexdigest()

    assert session(server.url, {"X-API-Token": server.api_token}).get("/api/jobs").ok
    assert (digest, digest) in spy.calls  # the stored hash against the presented one's

    spy.calls.clear()
    login(server.url, server.user_email, server.user_password)
    a, b = spy.calls[0]
    assert len(spy.calls) == 1 and len(a) == len(b) >= 64  # scrypt digests, in hex

    spy.calls.clear()
    admin = admin_session(server.url, server.admin_email, server.admin_password)
    qpu = admin.post("/api/op/qpus/create", json={"name": "ct"}).json()
    body = {"name": "ct", "access_token": qpu["access_token"]}
    assert session(server.url).post("/api/op/qpus/connect", json=body).ok
    access_digest = hashlib.sha256(qpu["access_token"].encode()).hexdigest()
    assert (access_digest, access_digest) in spy.calls


SECRET_NAMES = ("token", "password", "secret", "digest", "hash")


def test_no_secret_is_compared_with_eq_in_the_server_sources():
    """The only comparisons of secret values in the server are ``hmac.compare_digest``.

    A comparison made by SQL (``WHERE token = ?``) compares SHA-256 digests of what the
    caller sent, so its timing tells nothing about a stored token.
    """
    allowed = {
        # The two copies of a new password the caller sent, compared with each other.
        ("records.py", "password != data.get('passwordConfirm')"),
        # Tokens of the filter parser, not credentials.
        ("listing.py", "start + 4 == len(tokens)"),
        # The owner of a token record (a user id), not the token.
        ("routes/tokens.py", "token['user'] != identity.user_id"),
        # A header's name (strict mode drops API tokens on PocketBase routes), not its value.
        ("strict/middleware.py", "name == b'x-api-token'"),
    }
    offending = []
    for path in SERVER_SOURCES.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                continue
            text = ast.unparse(node)
            operands = [ast.unparse(n).lower() for n in (node.left, *node.comparators)]
            if any(name in operand for operand in operands for name in SECRET_NAMES):
                where = (str(path.relative_to(SERVER_SOURCES)), text)
                if where not in allowed:
                    offending.append(where)
    assert offending == []


# -- logs, output, reprs, tracebacks -----------------------------------------------------------


def test_no_secret_in_any_log_record_or_output(tmp_path, recorded_logs, capfd):
    secrets = Secrets()
    with LocalServer(data_dir=tmp_path / "data", workers=1) as srv:
        recorded_logs.loud()
        made = busy_session(srv, secrets)
        alice: Account = made["alice"]
        # Failures on the client side, formatted the way a user would see them.
        shown = []
        for call in (
            lambda: QPIClient(srv.url, api_token=alice.token[:-1], retry=NO_RETRIES).list_jobs(),
            lambda: QPIClient(srv.url, cache=False, retry=NO_RETRIES).auth_with_password(
                alice.email, alice.password + "?"
            ),
            lambda: QPIClient(
                "http://127.0.0.1:9", api_token=alice.token, retry=NO_RETRIES
            ).list_jobs(),
        ):
            try:
                call()
            except errors.QPIError as exc:
                shown.append("".join(traceback.format_exception(exc)))
                shown.append(repr(exc) + str(exc) + repr(exc.args))
                shown.append(repr(pickle.loads(pickle.dumps(exc))))
        secrets.add(alice.password + "?", alice.token[:-1])
    out, err = capfd.readouterr()
    logs = "\n".join(recorded_logs.lines)
    assert any(line.startswith("uvicorn") for line in recorded_logs.lines)  # server side
    assert any(line.startswith("urllib3") for line in recorded_logs.lines)  # client side
    assert secrets.found_in(logs) == []
    assert secrets.found_in(out + err) == []
    assert secrets.found_in("\n".join(shown)) == []
    assert _search_shapes(logs + out + err, allowed=set()) == []
    report(
        "no secrets in logs",
        log_records=len(recorded_logs.lines),
        secrets_searched=len(secrets.values),
        found=0,
    )


def test_reprs_never_show_a_secret(server, tmp_path):
    secrets = Secrets()
    secrets.add(server.api_token, server.admin_password, server.user_password)
    with QPIClient(server.url, api_token=server.api_token, cache=tmp_path / "c") as client:
        client.auth_with_password(server.user_email, server.user_password)
        job = client.run(tagged(BELL), shots=5, qpu="mock")
        result = job.result(timeout=60)
        shown = [
            repr(client), str(client), repr(client.cache), repr(job), repr(result),
            repr(resolve(server.url, server.api_token, profile=False)),
            repr(server), str(server),
        ]  # fmt: skip
    credentials = Credentials(server.api_token)
    credentials.set_session_token(server.user_password)
    shown += [repr(credentials), repr(Transport(server.url, credentials))]
    signer = TokenSigner(b"k" * 32, 60)
    token = signer.issue("abc", "users")
    secrets.add(token, (b"k" * 32).hex())
    identity = Identity(user={"id": "u", "password_hash": "scrypt$1$2$3$aa$bb"}, via="user_jwt")
    secrets.add("scrypt$1$2$3$aa$bb")
    shown += [repr(signer), repr(identity)]
    assert secrets.found_in("\n".join(shown)) == []
    assert "<set>" in repr(client)  # it says a token is set, not which


def test_qpi_serve_output_shows_only_its_own_banner_token(tmp_path):
    """``qpi serve`` prints the default user's token once, in its banner, so a local user can
    copy it (like Jupyter's URL token); nothing else it handles ever reaches its output."""
    with serving(tmp_path / "data", extra=("--workers", "1")) as served:
        srv = _Remote(served.url, tmp_path / "data")
        secrets = Secrets()
        busy_session(srv, secrets)
        banner_token = served.token  # "" if the banner stops showing it
        assert served.stop() == 0
        output = served.output()
    if banner_token:
        assert output.count(banner_token) == 1  # the banner line, and nowhere else
        secrets.values.discard(banner_token)
    assert secrets.found_in(output) == []
    assert _search_shapes(output, allowed={banner_token} - {""}) == []
    assert srv.admin_password not in output and srv.user_password not in output


class _Remote:
    """The credential attributes of a ``LocalServer``, for a ``qpi serve`` child process."""

    def __init__(self, url: str, data_dir: Path) -> None:
        import json

        creds = json.loads((data_dir / "credentials.json").read_text())
        self.url = url
        self.api_token = creds["api_token"]
        self.admin_email, self.admin_password = creds["admin_email"], creds["admin_password"]
        self.user_email, self.user_password = creds["user_email"], creds["user_password"]


def test_cache_and_export_files_hold_no_credential(server, tmp_path):
    """Adds a password login (a JWT session) to what test_cache_integration checks."""
    account = make_account(
        server.url, admin_session(server.url, server.admin_email, server.admin_password)
    )
    secrets = Secrets()
    with QPIClient(server.url, api_token=account.token, cache=tmp_path / "cache") as client:
        data = client.auth_with_password(account.email, account.password)
        secrets.add(account.token, account.password, data["token"])
        client.run(tagged(BELL), shots=12, qpu="mock").result(timeout=60)
        client.list_qpus()
        client.get_qpu("mock")
    with Cache(tmp_path / "cache") as cache:
        cache.export_to(tmp_path / "export.gz")
    files = [f for f in (tmp_path / "cache").rglob("*") if f.is_file()]
    blobs = [f.read_bytes() for f in files]
    blobs.append(gzip.decompress((tmp_path / "export.gz").read_bytes()))
    assert len(blobs) > 1
    for blob in blobs:
        assert secrets.found_in(blob) == []
        assert _search_shapes(blob.decode("latin-1"), allowed=set()) == []


# -- login rate limiting -------------------------------------------------------------------------


def test_logins_are_rate_limited_for_users_and_superusers(tmp_path):
    with LocalServer(workers=1, login_max_failures=3, login_window=3.0) as srv:
        url = f"{srv.url}/api/collections"
        for collection, identity, password in (
            ("users", srv.user_email, srv.user_password),
            ("_superusers", srv.admin_email, srv.admin_password),
        ):
            anon = session(srv.url)
            path = f"/api/collections/{collection}/auth-with-password"
            for _ in range(3):
                wrong = {"identity": identity, "password": "nope"}
                assert anon.post(path, json=wrong).status_code == 400
            # Locked: even the right password, even spelled with other case and spaces.
            for who in (identity, f"  {identity.upper()} "):
                limited = anon.post(path, json={"identity": who, "password": password})
                assert limited.status_code == 429
                assert limited.json()["status"] == 429
                assert 1 <= int(limited.headers["Retry-After"]) <= 3
            # The SDK surfaces it as a RateLimitError carrying the wait.
            with (
                QPIClient(srv.url, cache=False, retry=NO_RETRIES) as client,
                pytest.raises(errors.RateLimitError) as info,
            ):
                client.auth_with_password(identity, password, superuser=collection != "users")
            assert info.value.retry_after and info.value.retry_after >= 1
            assert url  # the other collection is limited separately (next loop)
        time.sleep(3.2)  # the window passes: the right password works again
        assert login(srv.url, srv.user_email, srv.user_password)
        assert login(srv.url, srv.admin_email, srv.admin_password, "_superusers")


# -- private files -------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_server_files_are_private_whatever_the_umask(tmp_path):
    data = tmp_path / "data"
    old = os.umask(0)  # the child inherits it: the most permissive umask there is
    try:
        with serving(data, extra=("--workers", "1")) as served:
            assert served.token
    finally:
        os.umask(old)
    assert _mode(data) == 0o700
    assert _mode(data / "credentials.json") == 0o600
    assert _mode(data / "jwt-secret") == 0o600


def test_qpi_login_writes_a_private_config_whatever_the_umask(server, tmp_path):
    if not (Path(__file__).resolve().parents[2] / "qpi" / "cli" / "login.py").exists():
        pytest.skip("qpi login is not there yet")
    account = make_account(
        server.url, admin_session(server.url, server.admin_email, server.admin_password)
    )
    config = tmp_path / "home" / "qpi" / "config.toml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qpi.cli",
            "login",
            "--url",
            server.url,
            "--email",
            account.email,
            "--password",
            account.password,
            "--profile",
            "lab",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QPI_CONFIG": str(config)},
        preexec_fn=lambda: os.umask(0),  # noqa: PLW1509 - the point of the test
    )
    assert done.returncode == 0, done.stderr
    assert _mode(config) == 0o600 and _mode(config.parent) == 0o700
    text = config.read_text()
    assert account.password not in text + done.stdout + done.stderr  # the password is not kept
    assert _search_shapes(done.stdout + done.stderr, allowed=set()) == []  # nor the token shown
