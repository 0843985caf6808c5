"""The ``Fault`` errors the emulator answers with, in QuickBooks' envelope and wording.

Every rejection the emulated API makes is one of these, raised from the books or a handler and
rendered once, so a batch item and a single request fail with the same body. The codes are
the ones clients branch on (python-quickbooks maps 1-499 to authorization, 600-1999 to
general, 2000-4999 to validation, 5000+ to business errors); the messages follow Intuit's.
"""

from __future__ import annotations

from typing import Any


class Fault(Exception):
    """One QuickBooks error: HTTP status, Fault ``type`` and one ``Error`` entry."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str = "",
        *,
        element: str = "",
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.fault_type = fault_type

    def fault(self) -> dict[str, Any]:
        """The ``Fault`` object (what a batch item carries)."""
        return {
            "Error": [
                {
                    "Message": self.message,
                    "Detail": self.detail,
                    "code": self.code,
                    "element": self.element,
                }
            ],
            "type": self.fault_type,
        }


def required(element: str) -> Fault:
    """2020: a required field is missing (DisplayName, CustomerRef, Line, ...)."""
    return Fault(
        400,
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element=element,
    )


def duplicate_name(name: str) -> Fault:
    """6240: names are unique per list (customer DisplayName, item Name, ...)."""
    return Fault(
        400,
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another customer, vendor or employee is already "
        f"using this name ({name}). Please use a different name.",
    )


def stale(entity: str, token: str) -> Fault:
    """5010: the update carried an old SyncToken."""
    return Fault(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on the same {entity} at the "
        f"same time. The other user finished before you did, so your work was not saved "
        f"(SyncToken {token} is no longer current).",
    )


def not_found(entity: str, id: str) -> Fault:
    """610: there is no such object (or it was deleted)."""
    return Fault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive or "
        f"deleted ({entity} {id}). Check the fields with accounts, customers, items, "
        "vendors or employees.",
    )


def invalid_reference(element: str, value: Any) -> Fault:
    """2500: a reference names nothing."""
    return Fault(
        400,
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {element} assigned is invalid ({value})",
        element=element,
    )


def invalid_property(name: str) -> Fault:
    """2010: a property the object does not have."""
    return Fault(
        400,
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" specified is unsupported or invalid',
        element=name,
    )


def business(detail: str, code: str = "6000") -> Fault:
    """6000 (and kin): a business rule refused the write."""
    return Fault(
        400,
        code,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def invalid_value(element: str, detail: str) -> Fault:
    """2050: a value of the wrong form (a bad date, an unknown enum value)."""
    return Fault(400, "2050", "Invalid String", detail, element=element)


def unsupported(detail: str) -> Fault:
    """500: an operation the object does not offer (creating a TaxCode through /taxcode)."""
    return Fault(400, "500", "Unsupported Operation", detail)


def query_error(detail: str) -> Fault:
    """4000: the statement does not parse or names something that cannot be queried."""
    return Fault(400, "4000", "Error parsing query", detail)


def throttled() -> Fault:
    """003001: over the per-realm limit (500 a minute, 10 at once, 40 batches a minute)."""
    return Fault(
        429,
        "003001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "ThrottleExceeded",
        fault_type="SERVICE",
    )


def authentication(detail: str) -> Fault:
    """3200: no, unknown or expired access token."""
    return Fault(
        401,
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        fault_type="AUTHENTICATION",
    )


def authorization(realm: str) -> Fault:
    """003100: the token belongs to another company."""
    return Fault(
        403,
        "003100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        f"The application is not authorized to access company {realm}",
        fault_type="AUTHORIZATION",
    )
