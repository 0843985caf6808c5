"""A public client library, unmodified, against the emulator: what it sends must be served.

``vtigerpy`` (PyPI, 0.0.1) is a small vtiger webservice client: it asks for the challenge
with a POST whose parameters are in the URL (served because ``getchallenge`` is a GET-type
operation, whose parameters vtiger reads from the query string whatever the method), logs
in with a form POST and ``md5(token + accessKey)``, and then sends every operation with
``sessionName``, as a query string (``get``) or a form (``post``).
"""

from __future__ import annotations

import json

import pytest

from syncbridge_simplycrm.emulator.sessions import ACCESS_KEY, USERNAME

from .conftest import Crm

vtigerpy = pytest.importorskip("vtigerpy")


def test_vtigerpy_logs_in_queries_creates_and_retrieves(crm: Crm) -> None:
    client = vtigerpy.Vtiger(crm.url, USERNAME, ACCESS_KEY)
    assert client.sessionName
    listed = client.get("query", query="SELECT accountname FROM Accounts ORDER BY id LIMIT 2;")
    assert listed.status_code == 200
    body = listed.json()
    assert body["success"] is True
    assert [row["id"] for row in body["result"]] == ["11x2", "11x5"]

    element = {"lastname": "Hansen", "firstname": "Mette", "assigned_user_id": "19x1",
               "account_id": "11x2"}
    created = client.post("create", elementType="Contacts", element=json.dumps(element)).json()
    assert created["success"] is True
    new_id = created["result"]["id"]
    retrieved = client.get("retrieve", id=new_id).json()["result"]
    assert (retrieved["firstname"], retrieved["lastname"]) == ("Mette", "Hansen")
    assert crm.emulator.sessions.logins == 1


def test_vtigerpy_sees_the_error_envelope(crm: Crm) -> None:
    client = vtigerpy.Vtiger(crm.url, USERNAME, ACCESS_KEY)
    answer = client.get("retrieve", id="11x9999")
    assert answer.status_code == 200
    assert answer.json() == {
        "success": False,
        "error": {
            "code": "ACCESS_DENIED",
            "message": "Permission to perform the operation is denied",
        },
    }
    with pytest.raises(Exception, match="INVALID_USER_CREDENTIALS"):
        vtigerpy.Vtiger(crm.url, USERNAME, "wrong-key")
