"""The connection's light: ``check`` green with the organisation, red with a reason a person
can act on; the password grant's token reused, renewed on 401, and never in a log."""

from __future__ import annotations

from dinero_testkit import ORG, Served

from syncbridge_dinero.emulator import API_KEY, CLIENT_SECRET


def test_check_is_green_with_the_organisation(dinero: Served) -> None:
    result = dinero.connect().check()
    assert result.ok and result.account == f"Nordlys Rådgivning ApS ({ORG})"
    assert result.companies == [{"id": ORG, "name": "Nordlys Rådgivning ApS"}]


def test_check_is_red_for_a_wrong_api_key(dinero: Served) -> None:
    result = dinero.connect(api_key="wrong-key").check()
    assert not result.ok
    assert result.reason == (
        "dinero: the token endpoint refused the credentials (invalid_grant: The user name or "
        "password is incorrect.); check api_key, client_id and client_secret in "
        "connections.dinero.settings"
    )


def test_check_is_red_for_a_wrong_client_secret(dinero: Served) -> None:
    result = dinero.connect(client_secret="wrong").check()
    assert not result.ok
    assert result.reason.startswith(
        "dinero: the token endpoint refused the integration's client_id/client_secret "
        "(invalid_client: Client authentication failed)"
    )


def test_check_is_red_for_an_organisation_the_key_does_not_reach(dinero: Served) -> None:
    result = dinero.connect(organization_id=1234).check()
    assert not result.ok
    assert result.reason == (
        f"organization_id 1234 is not reachable with this API key; it reaches: {ORG} "
        "(Nordlys Rådgivning ApS). Set organization_id to the firma-ID shown in Dinero"
    )


def test_one_token_serves_the_connection_and_a_401_gets_a_new_one(dinero: Served) -> None:
    connection = dinero.connect(page_size=3)
    assert len([r for p in connection.fetch("product") for r in p.records]) == 10
    assert dinero.emulator.grants == 1
    dinero.emulator.tokens.clear()  # every token revoked
    assert connection.check().ok
    assert dinero.emulator.grants == 2
    assert [e.status for e in dinero.recorder.exchanges[-3:]] == [401, 200, 200]


def test_no_secret_reaches_the_request_log_or_a_reason(dinero: Served) -> None:
    connection = dinero.connect(api_key="wrong-key")
    reason = connection.check().reason
    good = dinero.connect()
    list(good.fetch("company"))
    logged = " ".join(repr(entry) for entry in dinero.log)
    for secret in (API_KEY, "wrong-key", CLIENT_SECRET):
        assert secret not in logged and secret not in reason
    assert any(entry.status == 200 for entry in dinero.log)
