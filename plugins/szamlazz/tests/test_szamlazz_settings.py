"""Settings: one kind of credentials, a registered-looking prefix, errors that name the fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncbridge_szamlazz.settings import SzamlazzSettings


def _error(**settings: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        SzamlazzSettings.model_validate({"prefix": "SBT", **settings})
    return raised.value.errors()[0]["msg"]


def test_one_kind_of_credentials() -> None:
    assert _error() == (
        "Value error, credentials are missing: set agent_key (the Számla Agent key), or "
        "username and password"
    )
    assert _error(agent_key="k", username="u", password="p") == (
        "Value error, give either agent_key or username + password, not both"
    )
    assert _error(username="u").startswith("Value error, credentials are missing")


def test_the_prefix_and_language_are_checked() -> None:
    assert _error(agent_key="k", prefix="SB T") == (
        "Value error, must be the account's registered prefix: 1-10 letters or digits (e.g. SBT)"
    )
    assert _error(agent_key="k", language="xx").startswith("Value error, must be one of hu, en")


def test_secrets_do_not_print() -> None:
    settings = SzamlazzSettings.model_validate({"prefix": "SBT", "agent_key": "top-secret"})
    assert "top-secret" not in repr(settings) and "top-secret" not in str(settings)
