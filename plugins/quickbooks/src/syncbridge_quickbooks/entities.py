"""Which QuickBooks object serves each canonical entity, and how it can be read and written.

Two canonical entities share one QuickBooks object: a ``Customer`` is a company or a contact
(see :mod:`syncbridge_quickbooks.parties`), so reads of either go through all customers and
keep their own kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QboEntity:
    """One QuickBooks object type as the connector uses it."""

    #: the object's name in JSON envelopes and queries (``Customer``)
    name: str
    #: a name-list object (customers, items, ...): never deleted, only made inactive, and
    #: hidden from queries once inactive unless the query filters on ``Active``
    name_list: bool
    #: change data capture serves it; otherwise incremental reads query LastUpdatedTime
    cdc: bool = True

    @property
    def path(self) -> str:
        """The endpoint under ``/v3/company/{realmId}/``: the lower-case name."""
        return self.name.lower()


CUSTOMER = QboEntity("Customer", name_list=True)
ITEM = QboEntity("Item", name_list=True)
INVOICE = QboEntity("Invoice", name_list=False)
ESTIMATE = QboEntity("Estimate", name_list=False)
PAYMENT = QboEntity("Payment", name_list=False)
PAYMENT_METHOD = QboEntity("PaymentMethod", name_list=True)
TAX_CODE = QboEntity("TaxCode", name_list=True, cdc=False)
TAX_RATE = QboEntity("TaxRate", name_list=True, cdc=False)
COMPANY_CURRENCY = QboEntity("CompanyCurrency", name_list=True, cdc=False)
ACCOUNT = QboEntity("Account", name_list=True, cdc=False)

#: canonical entity -> the QuickBooks object holding it
ENTITIES: dict[str, QboEntity] = {
    "company": CUSTOMER,
    "contact": CUSTOMER,
    "product": ITEM,
    "invoice": INVOICE,
    "quote": ESTIMATE,
    "payment": PAYMENT,
    "payment_method": PAYMENT_METHOD,
    "vat_rate": TAX_CODE,
    "currency": COMPANY_CURRENCY,
}

#: entities split out of customers by kind
PARTIES = frozenset({"company", "contact"})
#: documents whose ``CustomerRef`` is a company or a contact
DOCUMENTS = frozenset({"invoice", "quote", "payment"})
