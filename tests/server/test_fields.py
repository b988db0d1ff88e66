"""``?fields=``: PocketBase's field picker on the job routes and the records API.

The picker cases are PocketBase's own (``tools/picker/pick_test.go``, pocketbase/pocketbase),
translated from Go to Python: same data, same field strings, same expected output.
"""

from __future__ import annotations

import json

import pytest

from qpi.server.picker import Excerpt, FieldsError, parse_fields, pick
from qpi.server.views import job_json, job_text
from tests.server.helpers import BELL, error

# -- the picker, on PocketBase's own cases ---------------------------------------------------------

NESTED = {
    "a": 1,
    "b": 2,
    "c": "test",
    "anySlice": [
        {"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test", "D": {"DA": 1, "DB": 2}},
        {"A": "test"},
    ],
    "mapSlice": [
        {"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test", "D": [{"DA": 1}]},
        {"B": ["1", "2", 3], "D": [{"DA": 2}, {"DA": 3}, {"DB": 4}]},
    ],
    "fullMap": [
        {"A": [1, 2, 3], "B": ["1", "2", 3], "C": "test"},
        {"B": ["1", "2", 3], "D": [{"DA": 2}, {"DA": 3}]},
    ],
}
REL = {"id": "123", "title": "lorem", "rel": {"id": "456", "title": "rel_title"}}
SUB = {
    "id": "123",
    "title": "lorem",
    "rel": {"id": "456", "title": "rel_title", "sub": {"id": "789", "title": "sub_title"}},
}
HTML_REL = {
    "id": "123",
    "title": "lorem",
    "rel": {"id": "456", "title": "<p>rel_title</p>", "sub": {"id": "789", "title": "sub_title"}},
}

PICKER_CASES = [
    ("empty fields", {"a": 1, "b": 2, "c": "test"}, "", {"a": 1, "b": 2, "c": "test"}),
    ("missing fields", {"a": 1, "b": 2, "c": "test"}, "missing", {}),
    ("non map data", "test", "a,b,test", "test"),
    ("non slice of map data", ["a", "b", "test"], "a,test", ["a", "b", "test"]),
    (
        "map with existing and missing fields",
        {"a": 1, "b": 2, "c": "test"},
        "a,  c  ,missing",
        {"a": 1, "c": "test"},
    ),
    (
        "slice of maps with existing and missing fields",
        [{"a": 11, "b": 11, "c": "test1"}, {"a": 22, "b": 22, "c": "test2"}],
        "a,  c  ,missing",
        [{"a": 11, "c": "test1"}, {"a": 22, "c": "test2"}],
    ),
    (
        "nested fields with mixed map and any slices",
        NESTED,
        "a, c, anySlice.A, mapSlice.C, mapSlice.D.DA, anySlice.D,fullMap",
        {
            "a": 1,
            "anySlice": [{"A": [1, 2, 3], "D": {"DA": 1, "DB": 2}}, {"A": "test"}],
            "c": "test",
            "fullMap": NESTED["fullMap"],
            "mapSlice": [{"C": "test", "D": [{"DA": 1}]}, {"D": [{"DA": 2}, {"DA": 3}, {}]}],
        },
    ),
    ("root wildcard with nested exception", REL, "*,rel.id", {**REL, "rel": {"id": "456"}}),
    ("sub wildcard", SUB, "id,rel.*", {"id": "123", "rel": SUB["rel"]}),
    (
        "sub wildcard with nested exception",
        SUB,
        "id,rel.*,rel.sub.id",
        {"id": "123", "rel": {"id": "456", "sub": {"id": "789"}, "title": "rel_title"}},
    ),
    (
        "valid excerpt modifier",
        HTML_REL,
        "*:excerpt(2),rel.title:excerpt(3, true)",
        {"id": "12", "rel": {"title": "rel..."}, "title": "lo"},
    ),
]


@pytest.mark.parametrize(
    ("data", "fields", "expected"),
    [case[1:] for case in PICKER_CASES],
    ids=[case[0] for case in PICKER_CASES],
)
def test_picker_matches_pocketbase(data, fields, expected):
    assert pick(data, parse_fields(fields)) == expected


def test_picker_refuses_what_pocketbase_refuses():
    with pytest.raises(FieldsError, match="excerpt"):
        parse_fields("*:excerpt")  # PocketBase: "invalid excerpt modifier"
    with pytest.raises(FieldsError, match="greater than 0"):
        parse_fields("a:excerpt(0)")
    with pytest.raises(FieldsError, match="modifier"):
        parse_fields("a:upper()")
    with pytest.raises(FieldsError, match="paths"):
        parse_fields(",".join(f"f{i}" for i in range(101)))


def test_excerpt_strips_markup_and_skips_scripts():
    excerpt = Excerpt(40, ellipsis=True)
    text = "<h1>Title</h1><script>alert(1)</script><p>Some   <b>bold</b>\n text</p>"
    assert excerpt.apply(text) == "Title Some bold text"
    assert Excerpt(8, ellipsis=True).apply(text) == "Title So..."
    assert excerpt.apply(12) == 12  # not a string: unchanged


def test_job_text_is_the_decoded_job_encoded():
    stored = {
        "id": "j" * 15,
        "user_id": "u" * 15,
        "qpu_target": "",
        "payload": '{"circuits":[{"circuit":"x\\u00e9"}],"shots":10}',
        "status": "completed",
        "finished_at": "2026-01-01 00:00:00.000Z",
        "duration": 0.5,
        "results": '{"circuit_results":[{"counts":{"00":10}}]}',
        "created": "c",
        "updated": "u",
    }
    decoded = {
        **stored,
        "payload": json.loads(stored["payload"]),
        "results": json.loads(stored["results"]),
    }
    assert json.loads(job_text(stored)) == job_json(decoded)
    pending = {**stored, "finished_at": "", "duration": 0, "results": None}
    assert json.loads(job_text(pending)) == job_json({**pending, "payload": decoded["payload"]})
    assert list(json.loads(job_text(pending))) == [
        "id", "user_id", "qpu_target", "payload", "status", "created", "updated",
    ]  # fmt: skip


# -- the job routes --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def done(user, mock_id):
    """A completed job of the default user."""
    return user.run(BELL, shots=64, qpu_target=mock_id)


def test_get_job_with_fields_answers_only_those(user, done):
    answer = user.get(f"/api/jobs/{done['id']}", params={"fields": "status"})
    assert answer.status_code == 200
    assert answer.json() == {"status": "completed"}
    both = user.get(f"/api/jobs/{done['id']}?fields=id,%20status,missing").json()
    assert both == {"id": done["id"], "status": "completed"}
    assert user.get(f"/api/jobs/{done['id']}?fields=").json() == done  # empty: everything
    assert user.get(f"/api/jobs/{done['id']}?fields=*").json() == done


def test_get_job_picks_nested_paths(user, done):
    picked = user.get(f"/api/jobs/{done['id']}?fields=status,results.circuit_results").json()
    assert picked == {
        "status": "completed",
        "results": {"circuit_results": done["results"]["circuit_results"]},
    }
    shots = user.get(f"/api/jobs/{done['id']}?fields=payload.shots").json()
    assert shots == {"payload": {"shots": 64}}


def test_fields_never_reveal_another_users_job(make_user, done):
    other, _ = make_user()
    error(other.get(f"/api/jobs/{done['id']}?fields=status"), 404, "Job not found.")


def test_bad_fields_is_a_400_that_says_why(user, done):
    body = error(user.get(f"/api/jobs/{done['id']}?fields=status:shout()"), 400)
    assert "fields" in body["message"] and "excerpt" in body["message"]
    error(user.get("/api/jobs?fields=" + "a" * 3000), 400)


def test_list_leaves_results_out_unless_asked(user, done):
    listed = {job["id"]: job for job in user.get("/api/jobs").json()}
    assert "results" not in listed[done["id"]]
    assert listed[done["id"]] == {k: v for k, v in done.items() if k != "results"}
    everything = {job["id"]: job for job in user.get("/api/jobs?fields=*").json()}
    assert everything[done["id"]] == done
    asked = {job["id"]: job for job in user.get("/api/jobs?fields=id,results").json()}
    assert asked[done["id"]] == {"id": done["id"], "results": done["results"]}
    statuses = user.get("/api/jobs", params={"fields": "status", "limit": 1}).json()
    assert len(statuses) == 1 and set(statuses[0]) == {"status"}


# -- the records API -------------------------------------------------------------------------------


def test_records_list_picks_item_fields_and_leaves_results_out(admin, done):
    path = "/api/collections/quantum_jobs/records"
    page = admin.get(path, params={"filter": f'id = "{done["id"]}"'}).json()
    assert page["totalItems"] == 1 and "results" not in page["items"][0]
    picked = admin.get(path, params={"filter": f'id = "{done["id"]}"', "fields": "id,results"})
    assert picked.json() == {
        "page": 1,
        "perPage": 30,
        "totalItems": 1,
        "totalPages": 1,
        "items": [{"id": done["id"], "results": done["results"]}],
    }
    full = admin.get(path, params={"filter": f'id = "{done["id"]}"', "fields": "*"}).json()
    assert full["items"][0]["results"] == done["results"]


def test_records_view_and_update_honour_fields(admin, user, done):
    path = f"/api/collections/quantum_jobs/records/{done['id']}"
    assert admin.get(path).json()["results"] == done["results"]  # one record: results included
    assert admin.get(path, params={"fields": "status"}).json() == {"status": "completed"}
    users = user.get("/api/collections/users/records", params={"fields": "email"}).json()
    assert users["items"] and all(set(item) == {"email"} for item in users["items"])
    answer = admin.patch(path, params={"fields": "id,status"}, json={"status": "completed"})
    assert answer.json() == {"id": done["id"], "status": "completed"}
