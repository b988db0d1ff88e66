"""Bad input never gets a 500 or a traceback: every error is a QPI error body."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.server.helpers import BELL, error


@pytest.mark.parametrize(
    "data",
    ["{", "[1, 2", "not json", '{"circuits": [}', "\x00\xff", "null", "[]", '"text"', "42"],
)
def test_malformed_bodies_are_400(user, data):
    answer = user.post("/api/jobs", data=data, headers={"Content-Type": "application/json"})
    error(answer, 400, "Invalid request body.")


def test_malformed_bodies_elsewhere(user, admin):
    error(user.post("/api/tokens", data="{"), 400, "Invalid request body.")
    error(admin.post("/api/op/qpus/create", data="{"), 400, "Invalid request body.")
    error(user.post("/api/collections/time_slots/records", data="{"), 400)
    error(user.post("/api/collections/users/auth-with-password", data="{"), 400)


def test_unicode_is_fine(user, mock_id):
    text = BELL.replace("bit[2] c;", "// ψ⟩ 量子 🎲\nbit[2] c;")
    job = user.run(text, qpu_target=mock_id, shots=4)
    assert job["status"] == "completed"
    assert user.get(f"/api/jobs/{job['id']}").json()["payload"]["circuits"][0]["circuit"] == text
    created = user.post("/api/tokens", json={"name": "clé 🔑"}).json()
    assert created["name"] == "clé 🔑"


def test_huge_bodies_are_413(user):
    big = {"circuits": [{"circuit": "x" * (1024 * 1024 + 10)}]}
    error(user.post("/api/jobs", json=big), 413)

    def chunks():
        yield b'{"circuits": [{"circuit": "'
        for _ in range(1100):
            yield b"x" * 1024
        yield b'"}]}'

    chunked = user.post("/api/jobs", data=chunks(), headers={"Content-Type": "application/json"})
    error(chunked, 413)


def test_unknown_routes_and_methods(anon, user):
    for path in ("/api/nope", "/api/jobs/x/y/z", "/nope", "/api/collections"):
        error(anon.get(path), 404, "The requested resource wasn't found.")
    error(user.post("/api/nope"), 404, "The requested resource wasn't found.")
    error(user.delete("/api/jobs"), 405)
    error(user.request("PUT", "/api/tokens"), 405)


def test_health_and_index(anon):
    assert anon.get("/api/health").json()["code"] == 200
    assert anon.get("/").status_code == 200
    assert anon.get("/openapi.json").json()["paths"]["/api/jobs"]["post"]["requestBody"]


@pytest.mark.parametrize(
    "value",
    [None, True, 1.5, -1, "x" * 10000, [], {}, [[[]]], 10**30, "\u0000", "'; DROP TABLE users;--"],
)
def test_any_json_value_in_any_field_is_a_clean_answer(user, admin, value):
    bodies = [
        ("/api/jobs", {"circuits": [{"circuit": value}]}),
        ("/api/jobs", {"circuits": [{"circuit": BELL, "parameter_values": value}]}),
        ("/api/jobs", {"circuits": [{"circuit": BELL}], "shots": value, "qpu_target": value}),
        ("/api/tokens", {"name": value, "expires_at": value}),
        ("/api/collections/time_slots/records", {"start_time": value, "end_time": value}),
        ("/api/collections/qpu_time_requests/records", {"seconds": value, "user": value}),
    ]
    for path, body in bodies:
        answer = user.post(path, json=body)
        assert answer.status_code < 500, (path, body, answer.text)
        if answer.status_code == 201 and path == "/api/jobs":
            user.post(f"/api/jobs/{answer.json()['id']}/cancel")
    for path in ("/api/op/qpus/create", "/api/op/qpu/toggle"):
        answer = admin.post(path, json={"name": value, "id": value, "num_qubits": value})
        assert answer.status_code < 500, (path, answer.text)
    query = requests.utils.quote(str(value))
    for path in (
        f"/api/jobs?sort={query}&skip={query}",
        f"/api/collections/users/records?filter={query}",
    ):
        assert user.get(path).status_code < 500


def _raw_exchange(url: str, data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes to the server; return the status line, headers and body it answers."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after a 400
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /api/jobs HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        # Headers that never end and pass h11's buffer limit (16 KiB) cannot be parsed at all.
        b"GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40_000,
    ],
    ids=["request-line", "header-syntax", "headers-too-long"],
)
def test_requests_the_http_parser_rejects_get_the_qpi_error_body(server, user, data):
    status, headers, body = _raw_exchange(server.url, data)
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/json"
    parsed = json.loads(body)
    assert parsed["status"] == 400 and parsed["data"] == {}
    assert "Invalid HTTP request" in parsed["message"] and "shorter URL" in parsed["message"]
    assert user.get("/api/jobs").status_code == 200  # and the server keeps serving
