import pytest

from qpi import QPIClient, errors
from tests.client.conftest import BELL, new_user


def test_bad_token_is_401_with_server_message(server):
    with (
        QPIClient(server.url, api_token="qpi_" + "0" * 64, cache=False) as bad,
        pytest.raises(errors.AuthenticationError) as info,
    ):
        bad.list_jobs()
    assert info.value.status_code == 401
    assert "Authentication required" in str(info.value)
    assert "0" * 64 not in str(info.value)


def test_token_never_shown(server, client):
    assert server.api_token not in repr(client)
    assert server.api_token not in repr(server)
    try:
        client.get_job("nope")
    except errors.NotFoundError as exc:
        assert server.api_token not in str(exc) and server.api_token not in repr(exc)


def test_users_only_see_their_own_jobs(server, client, admin, mock_id):
    other = new_user(server, admin)
    try:
        job_id = client.submit_job([{"circuit": BELL}], qpu_target=mock_id)
        with pytest.raises(errors.NotFoundError):
            other.get_job(job_id)
        with pytest.raises(errors.NotFoundError):
            other.cancel_job(job_id)
        assert job_id not in {j["id"] for j in other.list_jobs()}
        client.wait_for_job(job_id, timeout=30)
    finally:
        other.close()


def test_admin_routes_need_a_superuser(client):
    with pytest.raises(errors.AuthenticationError) as info:
        client.create_qpu("sneaky")
    assert info.value.status_code == 403
    with pytest.raises(errors.AuthenticationError):
        client.version()


def test_exhausted_balance_is_refused(server, admin, mock_id):
    broke = new_user(server, admin, seconds=0)
    try:
        with pytest.raises(errors.AuthenticationError, match="(?i)insufficient qpu seconds"):
            broke.submit_job([{"circuit": BELL}], qpu_target=mock_id)
    finally:
        broke.close()


def test_password_login_session_works_for_jobs(server, mock_id):
    with QPIClient(server.url, cache=False) as c:
        data = c.auth_with_password(server.user_email, server.user_password)
        assert data["record"]["email"] == server.user_email
        job_id = c.submit_job([{"circuit": BELL}], qpu_target=mock_id)
        assert c.wait_for_job(job_id, timeout=30)["status"] == "completed"
    with QPIClient(server.url, cache=False) as c, pytest.raises(errors.AuthenticationError):
        c.auth_with_password(server.user_email, "wrong password")
