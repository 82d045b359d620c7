"""Credentials and the access lifecycle against the emulator."""

from __future__ import annotations

import pytest

from connectkit.errors import AccessNotGrantedError, InvalidCredentialsError, NotFoundError
from connectkit.models import AccessState
from connectkit.secrets import Secret
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import School

WONDE = WondeConnector()
BAD = "ffffffffffffffffffffffffffffffffffffffff"


def test_good_credentials_learn_the_school(make_ctx) -> None:
    info = WONDE.connectkit_check_credentials(ctx=make_ctx())
    assert (info.id, info.name, info.region) == ("A1930499544", "Emulated Academy", "GBR")


def test_bad_token_is_invalid_credentials_without_the_token(make_ctx, caplog) -> None:
    with pytest.raises(InvalidCredentialsError) as info:
        WONDE.connectkit_check_credentials(ctx=make_ctx(token=Secret(BAD)))
    assert BAD not in str(info.value)
    assert BAD not in caplog.text


def test_unknown_school_is_not_found(make_ctx) -> None:
    with pytest.raises(NotFoundError, match="A1234567890"):
        WONDE.connectkit_check_credentials(ctx=make_ctx(school_id="A1234567890"))


def test_request_access_then_approval(make_ctx, emulator) -> None:
    emulator.add_school(School(id="A4440000001", name="Newly Asked", access="none"))
    ctx = make_ctx(school_id="A4440000001")
    with pytest.raises(AccessNotGrantedError):
        WONDE.connectkit_check_credentials(ctx=ctx)
    assert WONDE.connectkit_check_access(ctx=ctx).state is AccessState.UNKNOWN
    status = WONDE.connectkit_request_access(
        ctx=ctx, contacts=[{"name": "Jane Smith", "email": "j@school.example"}]
    )
    assert status.state is AccessState.PENDING
    assert WONDE.connectkit_check_access(ctx=ctx).state is AccessState.PENDING
    emulator.schools["A4440000001"].access = "approved"
    approved = WONDE.connectkit_check_access(ctx=ctx)
    assert (approved.state, approved.school_name) == (AccessState.APPROVED, "Newly Asked")


@pytest.mark.parametrize("state", [AccessState.DECLINED, AccessState.REVOKED])
def test_declined_and_revoked_are_reported(make_ctx, emulator, state: AccessState) -> None:
    emulator.add_school(School(id="A4440000002", name="Said No", access=state.value))
    assert WONDE.connectkit_check_access(ctx=make_ctx(school_id="A4440000002")).state is state
