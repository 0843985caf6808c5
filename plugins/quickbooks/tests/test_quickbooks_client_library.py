"""A public client library, unmodified, against the emulator: what it sends must be served.

python-quickbooks (with Intuit's own ``intuit-oauth``) is what many QuickBooks integrations
in Python are built on; if the emulator refused its requests, it would be emulating a
QuickBooks that nobody talks to. The library is pointed at the emulator the way it allows
for any deployment: the OpenID discovery URL as its ``environment`` (so the token refresh
goes to the emulator's OAuth endpoints), ``api_url_v3`` on the client instance, and
oauthlib's own switch for plain-HTTP test servers (``OAUTHLIB_INSECURE_TRANSPORT``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from syncbridge_quickbooks.emulator import CLIENT_ID, CLIENT_SECRET

if TYPE_CHECKING:
    from conftest import Served

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # the emulator listens on http://127.0.0.1; oauthlib refuses that unless told it is a test
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def client_for(served: Served) -> Any:
    """A python-quickbooks client holding only a refresh token, as an app stores it."""
    auth = AuthClient(
        CLIENT_ID,
        CLIENT_SECRET,
        "http://127.0.0.1/callback",
        served.url + "/.well-known/openid_configuration/",
    )
    refresh_token = served.emulator.issue_tokens()["refresh_token"]
    client = QuickBooks(
        auth_client=auth,
        refresh_token=refresh_token,
        company_id=served.emulator.realm,
        minorversion=75,
    )
    client.api_url_v3 = served.url + "/v3"
    return client


def test_python_quickbooks_lists_items_with_its_star_and_sku_select(served: Served) -> None:
    client = client_for(served)
    # the refresh went to the emulator and rotated the token
    assert client.auth_client.access_token in served.emulator.provider.access_tokens
    items = Item.all(qb=client, max_results=100)  # sends "SELECT *, Sku FROM Item ..."
    expected = {i["Id"]: i["Sku"] for i in served.emulator.books.rendered("Item")}
    assert {item.Id: item.Sku for item in items} == expected
    assert all(item.Name and item.SyncToken is not None for item in items)
    assert Item.count(qb=client) == len(expected)


def test_python_quickbooks_creates_and_reads_back_a_customer(served: Served) -> None:
    client = client_for(served)
    customer = Customer()
    customer.DisplayName = "Larchwood Joinery"
    customer.CompanyName = "Larchwood Joinery Ltd"
    created = customer.save(qb=client)  # a full object: SyncToken 0, empty strings, ...
    assert customer.Id == created.Id and created.SyncToken == "0"
    [found] = Customer.filter(DisplayName="Larchwood Joinery", qb=client)
    assert (found.Id, found.CompanyName) == (customer.Id, "Larchwood Joinery Ltd")
    again = Customer.get(customer.Id, qb=client)
    again.Notes = "changed through python-quickbooks"
    assert again.save(qb=client).SyncToken == "1"  # a full (not sparse) update
    assert served.emulator.books.read("Customer", customer.Id)["Notes"] == again.Notes
