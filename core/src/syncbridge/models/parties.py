"""Companies (organisations, clients), the sectors they belong to, and contacts (people)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, ValidationInfo, field_validator

from syncbridge.models.base import CanonicalRecord
from syncbridge.models.taxid import normalize_tax_code, normalize_vat
from syncbridge.models.types import CountryCode, CurrencyCode, Email, Text


class _Party(CanonicalRecord):
    # country first: the VAT and tax-code validators read it
    country: CountryCode | None = None
    address: Text = None
    postal_code: Text = None
    city: Text = None
    province: Text = None
    mailing_address: Text = None
    mailing_postal_code: Text = None
    mailing_city: Text = None
    mailing_country: CountryCode | None = None
    email: Email | None = None
    phone: Text = None
    vat_number: Text = None
    tax_code: Text = None
    #: the record's id in another system, kept by systems that store one (MiniCRM id, ...)
    external_id: Text = None
    notes: Text = None

    @field_validator("vat_number")
    @classmethod
    def _vat(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else normalize_vat(value, info.data.get("country"))

    @field_validator("tax_code")
    @classmethod
    def _tax_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else normalize_tax_code(value, info.data.get("country"))


class Sector(CanonicalRecord):
    """A business sector companies belong to ("Hostelería"), synced as records of its own:
    CRMs keep sectors as a list that a company points at (``sector_id``), so a sync creates
    the sectors missing on the other side and translates each company's sector through their
    links.

    Not reference data for that reason: a sync line creates sectors (seed 003: the management
    application's, in OfiCRM) instead of only linking them. ``code`` is what two systems
    sharing the list agree on; match on it (``match = [["code"], ["name"]]``).
    """

    entity: ClassVar[str] = "sector"

    code: Text = Field(
        default=None, description="the sector's short code, the same in the systems sharing it"
    )
    name: str


class Company(_Party):
    """An organisation: a client, a customer company, a supplier."""

    entity: ClassVar[str] = "company"
    references: ClassVar[dict[str, str]] = {"sector_id": "sector"}

    name: str
    status: Text = None
    currency: CurrencyCode | None = None
    website: Text = None
    sector_id: str | None = Field(
        default=None,
        description="the company's sector; a sync that does not sync sectors leaves it alone",
    )


class Contact(_Party):
    """A person, possibly working for a company."""

    entity: ClassVar[str] = "contact"
    references: ClassVar[dict[str, str]] = {"company_id": "company"}

    first_name: Text = None
    # validate_default: the check below must also run when last_name is left out
    last_name: Text = Field(default=None, validate_default=True)
    company_id: str | None = None
    job_title: Text = None
    mobile: Text = None

    @field_validator("last_name")
    @classmethod
    def _named(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("first_name") is None:
            raise ValueError("a contact needs a first_name or a last_name")
        return value

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)
