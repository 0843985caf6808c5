"""Seeded data of the emulated company: a US wholesaler selling to US and German customers.

"Keystone Supply Co." keeps its books in US dollars with multicurrency on (EUR and GBP), and
charges California sales tax or German VAT (19 %, 7 % on food). Its customer list has the
shapes a connector must handle: companies, private persons, people filed as sub-customers of
a company, and jobs (projects) under a company. Invoices are sent or not, paid, partly paid
or open; estimates are pending, accepted, closed or rejected.

Everything goes through :class:`~syncbridge_quickbooks.emulator.books.Books`, so seeded
records obey the same rules and arithmetic as records written through the API, and is drawn
from the emulator's seeded generator: the same ``--records`` and ``--seed`` give the same books.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from syncbridge.emulator import FakeData
from syncbridge.emulator.fake import ascii_slug
from syncbridge_quickbooks.emulator.books import Books
from syncbridge_quickbooks.emulator.values import money

COMPANY_INFO: dict[str, Any] = {
    "CompanyName": "Keystone Supply Co.",
    "LegalName": "Keystone Supply Company LLC",
    "CompanyAddr": {
        "Line1": "2150 Harbor Boulevard",
        "City": "Costa Mesa",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "92627",
        "Country": "US",
    },
    "Country": "US",
    "Email": {"Address": "books@keystone-supply.com"},
    "WebAddr": {"URI": "https://www.keystone-supply.com"},
    "FiscalYearStartMonth": "January",
    "SupportedLanguages": "en",
}

ACCOUNTS: dict[int, dict[str, Any]] = {
    1: {"Name": "Services", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"},
    4: {
        "Name": "Undeposited Funds",
        "AccountType": "Other Current Asset",
        "AccountSubType": "UndepositedFunds",
    },
    79: {
        "Name": "Sales of Product Income",
        "AccountType": "Income",
        "AccountSubType": "SalesOfProductIncome",
    },
    84: {
        "Name": "Accounts Receivable (A/R)",
        "AccountType": "Accounts Receivable",
        "AccountSubType": "AccountsReceivable",
    },
}

#: id -> (name, rate in percent)
TAX_RATES: dict[int, tuple[str, Decimal]] = {
    1: ("California", Decimal("7.25")),
    2: ("USt 19%", Decimal("19")),
    3: ("USt 7%", Decimal("7")),
    4: ("Steuerfrei", Decimal("0")),
}
#: id -> (name, description, sales rate ids, purchase rate ids)
TAX_CODES: dict[int, tuple[str, str, list[int], list[int]]] = {
    2: ("California", "California state sales tax", [1], []),
    3: ("USt 19%", "Umsatzsteuer, Regelsatz", [2], []),
    4: ("USt 7%", "Umsatzsteuer, ermäßigter Satz", [3], []),
    5: ("Steuerfrei", "Steuerfreie Umsätze", [4], []),
    6: ("VSt 19%", "Vorsteuer (purchases only)", [], [2]),
}
#: (name, type)
PAYMENT_METHODS = (
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("American Express", "CREDIT_CARD"),
    ("Überweisung", "NON_CREDIT_CARD"),
)
CURRENCIES = ("EUR", "GBP")
PROJECTS = ("Office fit-out", "Website relaunch", "Network upgrade", "Warehouse shelving")
#: goods taxed at the German reduced rate
FOOD = ("Coffee beans 1 kg", "Olive oil 1 l")
COUNTRY_NAMES = {"US": "USA", "DE": "Germany"}
FIRST_DAY = date(2024, 1, 8)


def seed_reference(books: Books) -> None:
    """Accounts, tax rates and codes, payment methods and currencies: always present."""
    for id, account in ACCOUNTS.items():
        books.insert_fixed(
            "Account",
            {
                **account,
                "FullyQualifiedName": account["Name"],
                "Classification": "Revenue" if account["AccountType"] == "Income" else "Asset",
                "SubAccount": False,
                "Active": True,
                "CurrentBalance": Decimal(0),
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
            },
            id,
        )
    for id, (name, rate) in TAX_RATES.items():
        books.insert_fixed(
            "TaxRate",
            {
                "Name": name,
                "Description": name,
                "RateValue": rate,
                "Active": True,
                "AgencyRef": {"value": "1" if id == 1 else "2"},
                "DisplayType": "ReadOnly",
            },
            id,
        )
    for id, (name, description, sales, purchases) in TAX_CODES.items():
        books.insert_fixed(
            "TaxCode",
            {
                "Name": name,
                "Description": description,
                "Active": True,
                "Hidden": False,
                "Taxable": bool(sales or purchases),
                "TaxGroup": False,
                "SalesTaxRateList": {"TaxRateDetail": _rate_details(sales)},
                "PurchaseTaxRateList": {"TaxRateDetail": _rate_details(purchases)},
            },
            id,
        )
    for name, kind in PAYMENT_METHODS:
        books.create("PaymentMethod", {"Name": name, "Type": kind})
    for code in CURRENCIES:
        books.create("CompanyCurrency", {"Code": code})


def _rate_details(ids: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "TaxRateRef": {"value": str(id), "name": TAX_RATES[id][0]},
            "TaxTypeApplicable": "TaxOnAmount",
            "TaxOrder": 0,
        }
        for id in ids
    ]


class Seeder:
    """Draws ``records`` companies, items and invoices (and half as many people, a quarter
    as many jobs, half as many estimates) from the emulator's generator."""

    def __init__(self, books: Books, fake: FakeData, rng: random.Random) -> None:
        self.books = books
        self.fake = fake
        self.rng = rng
        self.names: set[str] = set()

    def unique(self, name: str, *alternatives: str) -> str:
        """A DisplayName/Name not used yet: ``name``, an alternative, or ``name 2``, ..."""
        for candidate in (name, *alternatives):
            if candidate.casefold() not in self.names:
                self.names.add(candidate.casefold())
                return candidate
        counter = 2
        while f"{name} {counter}".casefold() in self.names:
            counter += 1
        self.names.add(f"{name} {counter}".casefold())
        return f"{name} {counter}"

    def run(self, records: int) -> None:
        if records <= 0:
            return
        items = [self.item() for _ in range(records)]
        companies = [self.company("US" if i % 2 == 0 else "DE") for i in range(records)]
        people = [self.person(companies[i % len(companies)], i) for i in range(records // 2)]
        jobs = [self.job(companies[(4 * i + 1) % len(companies)], i) for i in range(records // 4)]
        customers = companies + people + jobs
        for i in range(records):
            invoice = self.document(
                "Invoice", customers[self.rng.randrange(len(customers))], items, i
            )
            if i % 3 == 0:
                self.payment(invoice, invoice["TotalAmt"])
            elif i % 5 == 0:
                self.payment(invoice, money(invoice["TotalAmt"] / 2))
        for i in range(records // 2):
            self.document("Estimate", customers[self.rng.randrange(len(customers))], items, i)

    def item(self) -> dict[str, Any]:
        product = self.fake.product()
        service = product.unit in ("h", "day", "month", "year")
        body: dict[str, Any] = {
            "Name": self.unique(product.name, f"{product.name} {product.code}"),
            "Sku": product.code,
            "Description": f"{product.name} ({product.unit})",
            "UnitPrice": product.price,
            "Type": "Service" if service else "NonInventory",
            "IncomeAccountRef": {"value": "1" if service else "79"},
            "Taxable": True,
        }
        if not service:
            body["PurchaseCost"] = money(product.price * Decimal("0.6"))
        return self.books.create("Item", body)

    def company(self, country: str) -> dict[str, Any]:
        company = self.fake.company(country)
        domain = company.email.partition("@")[2]
        address = company.address
        body: dict[str, Any] = {
            "CompanyName": company.name,
            "DisplayName": self.unique(company.name, f"{company.name} ({address.city})"),
            "PrimaryEmailAddr": {"Address": company.email},
            "PrimaryPhone": {"FreeFormNumber": company.phone},
            "WebAddr": {"URI": f"https://www.{domain}"},
            "BillAddr": self.address(
                address.street, address.city, address.postcode, address.region, country
            ),
            "CurrencyRef": {"value": "EUR" if country == "DE" else "USD"},
            "PrimaryTaxIdentifier": self.tax_id(company.vat_number, country),
        }
        return self.books.create("Customer", body)

    def person(self, company: dict[str, Any], index: int) -> dict[str, Any]:
        """Every other person is filed under a company (a contact there), the rest alone."""
        country = "DE" if company["CurrencyRef"]["value"] == "EUR" else "US"
        domain = str(company["PrimaryEmailAddr"]["Address"]).partition("@")[2]
        under = index % 2 == 0
        person = self.fake.person(country, domain=domain if under else None)
        body: dict[str, Any] = {
            "GivenName": person.first_name,
            "FamilyName": person.last_name,
            "DisplayName": self.unique(person.full_name),
            "PrimaryEmailAddr": {"Address": person.email},
            "PrimaryPhone": {"FreeFormNumber": person.phone},
            "CurrencyRef": dict(company["CurrencyRef"]),
        }
        if under:
            body["ParentRef"] = {"value": company["Id"]}
            body["Job"] = True
            body["BillWithParent"] = True
            body["BillAddr"] = dict(company["BillAddr"])
        else:
            place = self.fake.address(country)
            body["BillAddr"] = self.address(
                place.street, place.city, place.postcode, place.region, country
            )
            body["Mobile"] = {"FreeFormNumber": self.fake.phone(country)}
        return self.books.create("Customer", body)

    def job(self, company: dict[str, Any], index: int) -> dict[str, Any]:
        """A project under a company: no company name, no person name of its own."""
        project = PROJECTS[index % len(PROJECTS)]
        short = ascii_slug(str(company["DisplayName"]).split()[0]).capitalize()
        body = {
            "DisplayName": self.unique(f"{project} {short}", f"{project} {short} {index}"),
            "ParentRef": {"value": company["Id"]},
            "Job": True,
            "BillWithParent": True,
            "BillAddr": dict(company["BillAddr"]),
            "PrimaryEmailAddr": dict(company["PrimaryEmailAddr"]),
            "CurrencyRef": dict(company["CurrencyRef"]),
            "Notes": f"{project} for {company['DisplayName']}",
        }
        return self.books.create("Customer", body)

    def address(
        self, street: str, city: str, postcode: str, region: str, country: str
    ) -> dict[str, Any]:
        address = {
            "Line1": street,
            "City": city,
            "PostalCode": postcode,
            "Country": COUNTRY_NAMES[country],
        }
        if region:
            address["CountrySubDivisionCode"] = region
        return address

    def tax_id(self, number: str, country: str) -> str:
        return f"DE{number}" if country == "DE" else f"{number[:2]}-{number[2:]}"

    def document(
        self, entity: str, customer: dict[str, Any], items: list[dict[str, Any]], index: int
    ) -> dict[str, Any]:
        german = customer["CurrencyRef"]["value"] == "EUR"
        region = (customer.get("BillAddr") or {}).get("CountrySubDivisionCode")
        lines = []
        for _ in range(self.rng.randint(1, 3)):
            item = items[self.rng.randrange(len(items))]
            qty = Decimal(self.rng.randint(1, 10))
            price = item["UnitPrice"]
            if german:
                code = "4" if any(item["Name"].startswith(food) for food in FOOD) else "3"
            else:
                code = "2" if region == "CA" else "NON"
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": money(qty * price),
                    "Description": item["Description"],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"], "name": item["Name"]},
                        "Qty": qty,
                        "UnitPrice": price,
                        "TaxCodeRef": {"value": code},
                    },
                }
            )
        day = FIRST_DAY + timedelta(days=3 * index + self.rng.randint(0, 2))
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
            "TxnDate": day.isoformat(),
            "Line": lines,
            "BillEmail": dict(customer["PrimaryEmailAddr"]),
        }
        if entity == "Invoice":
            body["DueDate"] = (day + timedelta(days=14 if german else 30)).isoformat()
            body["EmailStatus"] = "EmailSent" if self.rng.random() < 0.4 else "NotSet"
        else:
            body["ExpirationDate"] = (day + timedelta(days=30)).isoformat()
            body["TxnStatus"] = self.rng.choice(
                ("Pending", "Pending", "Accepted", "Closed", "Rejected")
            )
        return self.books.create(entity, body)

    def payment(self, invoice: dict[str, Any], amount: Decimal) -> None:
        german = invoice["CurrencyRef"]["value"] == "EUR"
        method = 6 if german else self.rng.randint(1, 5)
        paid_on = date.fromisoformat(invoice["TxnDate"]) + timedelta(days=self.rng.randint(3, 12))
        self.books.create(
            "Payment",
            {
                "CustomerRef": dict(invoice["CustomerRef"]),
                "TotalAmt": amount,
                "TxnDate": paid_on.isoformat(),
                "PaymentMethodRef": {"value": str(method)},
                "PaymentRefNum": f"R{invoice['DocNumber']}",
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
        )
