"""What one emulated MiniCRM system is set up with: modules, statuses, users, field schemas.

A MiniCRM system is configured per tenant: its modules (categories) and their statuses are
named by the tenant, so the labels here are this emulated tenant's, not MiniCRM's. The
system's language (error messages, the localized contact types of details) is Hungarian.
"""

from __future__ import annotations

from typing import Any

#: CategoryId -> module name (``GET /Api/R3/Category``)
CATEGORIES: dict[int, str] = {23: "Értékesítés", 38: "Projektek", 40: "Számlák"}
#: the module whose card statuses say who is a customer
SALES = 23
#: StatusId -> label, per category (the tenant named its Sales statuses in English)
STATUSES: dict[int, dict[int, str]] = {
    23: {2500: "Lead", 2501: "Customer", 2502: "Lost"},
    38: {3800: "Open", 3801: "Done"},
    40: {4000: "Issued", 4001: "Paid", 4002: "Storno"},
}
#: UserId -> name
USERS: dict[int, str] = {501: "Kovács Anna", 502: "API"}
API_USER = 502

#: Contact ``Type`` as written and listed -> the label a contact detail shows
TYPE_LABELS = {"Business": "Cég", "Person": "Személy"}

#: the writable fields of each contact type (``PUT /Api/R3/Contact``)
BUSINESS_FIELDS = frozenset(
    {
        "Type",
        "Name",
        "Email",
        "Phone",
        "Description",
        "BankAccount",
        "Swift",
        "RegistrationNumber",
        "VatNumber",
        "EUVatNumber",
        "Industry",
        "Region",
        "Employees",
        "YearlyRevenue",
        "FoundingYear",
        "Capital",
        "MainActivity",
        "Deleted",
        "Tags",
        "ReferenceId",
    }
)
PERSON_FIELDS = frozenset(
    {
        "Type",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "Description",
        "BankAccount",
        "Swift",
        "VatNumber",
        "Position",
        "Industry",
        "Region",
        "YearlyRevenue",
        "BusinessId",
        "Deleted",
        "Tags",
        "ReferenceId",
    }
)
ADDRESS_FIELDS = frozenset(
    {"ContactId", "Type", "Name", "CountryId", "PostalCode", "City", "County", "Address", "Default"}
)
#: the kinds of address a contact has (``Address.Type``)
ADDRESS_TYPES = ("Székhely", "Számlázási cím", "Levelezési cím", "Telephely")
PROJECT_FIELDS = frozenset(
    {"CategoryId", "ContactId", "StatusId", "UserId", "Name", "Deleted", "IsPrivate"}
)

_COMMON: dict[str, Any] = {
    "Id": "Int",
    "Email": "Email",
    "Phone": "Phone",
    "Description": "LongText",
    "Deleted": "Int",
    "CreatedBy": USERS,
    "CreatedAt": "DateTime",
    "UpdatedBy": USERS,
    "UpdatedAt": "DateTime",
    "BankAccount": "Text(64)",
    "Swift": "Text(16)",
    "VatNumber": "Text(64)",
    "Industry": "Text(128)",
    "Region": "Text(128)",
    "Tags": "Tags",
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "Business": {
        **_COMMON,
        "Name": "Text(512)",
        "RegistrationNumber": "Text(64)",
        "EUVatNumber": "Text(64)",
        "Employees": "Int",
        "YearlyRevenue": "Int",
        "FoundingYear": "Int",
        "Capital": "Int",
        "MainActivity": "Text(512)",
    },
    "Person": {
        **_COMMON,
        "FirstName": "Text(256)",
        "LastName": "Text(256)",
        "Position": "Text(256)",
        "YearlyRevenue": "Int",
        "BusinessId": "Int",
    },
}


def project_schema(category: int) -> dict[str, Any]:
    """``GET /Api/R3/Schema/Project/{CategoryId}``: enums as ``{id: label}``, scalars typed."""
    return {
        "Id": "Int",
        "CategoryId": {str(key): name for key, name in CATEGORIES.items()},
        "ContactId": "Int",
        "StatusId": {str(key): name for key, name in STATUSES[category].items()},
        "UserId": {str(key): name for key, name in USERS.items()},
        "Name": "Text(512)",
        "StatusUpdatedAt": "DateTime",
        "IsPrivate": "Int",
        "Deleted": "Int",
        "CreatedBy": {str(key): name for key, name in USERS.items()},
        "CreatedAt": "DateTime",
        "UpdatedBy": {str(key): name for key, name in USERS.items()},
        "UpdatedAt": "DateTime",
    }
