"""Seeded, realistic fake data for emulators: people, companies, addresses, products.

Everything is drawn from one :class:`random.Random`, so the same seed and the same sequence of
calls give the same data on every machine: that is what makes ``--records K --seed S`` a
reproducible dataset. VAT numbers carry valid check digits (validated with python-stdnum, the
library the core normalises them with), so seeded companies pass the canonical model.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from stdnum.de import vat as de_vat
from stdnum.dk import cvr as dk_cvr
from stdnum.es import cif as es_cif
from stdnum.hu import anum as hu_anum
from stdnum.it import iva as it_iva
from stdnum.us import ein as us_ein

from syncbridge.emulator.pools import POOLS, PRODUCTS, City, CountryPool

T = TypeVar("T")

_DIGITS = "0123456789"
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d"})


@dataclass(frozen=True)
class Address:
    street: str  # with the house number, in the country's order
    postcode: str
    city: str
    region: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str
    country: str
    family_name_first: bool = False

    @property
    def full_name(self) -> str:
        """The name as the person's country writes it ("Nagy Bence" in Hungary)."""
        if self.family_name_first:
            return f"{self.last_name} {self.first_name}"
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Company:
    name: str
    vat_number: str  # national form, no country prefix
    email: str
    phone: str
    address: Address
    currency: str
    country: str


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    unit: str
    price: Decimal  # net unit price, two decimals
    vat_rate: Decimal  # percent


def ascii_slug(text: str) -> str:
    """ "Sørensen Byg" -> "sorensen-byg": for e-mail addresses and domains."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    plain = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch in " -"))
    return "-".join(plain.lower().split())


class FakeData:
    """Draws realistic records from the country pools.

    :param rng: the emulator's seeded generator (share it, so one seed drives everything).
    :param countries: the countries to draw from when a call names none, e.g. ``("IT",)`` for
        an Italian system; all pooled countries by default.
    """

    def __init__(self, rng: random.Random, countries: Sequence[str] | None = None) -> None:
        self.rng = rng
        self.countries = tuple(countries or POOLS)
        unknown = [code for code in self.countries if code not in POOLS]
        if unknown:
            raise ValueError(f"no data pool for {unknown}; pooled: {', '.join(POOLS)}")
        self._sku = 0

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def country(self) -> str:
        return self.pick(self.countries)

    def pool(self, country: str | None = None) -> CountryPool:
        return POOLS[country or self.country()]

    def digits(self, pattern: str) -> str:
        """Replace each ``#`` in ``pattern`` with a random digit."""
        return "".join(self.pick(_DIGITS) if ch == "#" else ch for ch in pattern)

    def phone(self, country: str | None = None) -> str:
        return self.digits(self.pool(country).phone)

    def address(self, country: str | None = None) -> Address:
        pool = self.pool(country)
        city: City = self.pick(pool.cities)
        street = pool.street_format.format(
            street=self.pick(pool.streets), number=self.rng.randint(1, 180)
        )
        return Address(street, city.postcode, city.name, city.region, pool.code)

    def person(self, country: str | None = None, *, domain: str | None = None) -> Person:
        """A person; ``domain`` gives their e-mail the company's domain."""
        pool = self.pool(country)
        first, last = self.pick(pool.first_names), self.pick(pool.last_names)
        domain = domain or f"example.{pool.tld}"
        email = f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"
        return Person(first, last, email, self.phone(pool.code), pool.code, pool.family_name_first)

    def company(self, country: str | None = None) -> Company:
        pool = self.pool(country)
        last, trade = self.pick(pool.last_names), self.pick(pool.company_trades)
        name = pool.company_format.format(
            last=last, trade=trade, suffix=self.pick(pool.company_suffixes)
        )
        domain = f"{ascii_slug(f'{last} {trade}')}.{pool.tld}"
        return Company(
            name=name,
            vat_number=self.vat_number(pool.code),
            email=f"info@{domain}",
            phone=self.phone(pool.code),
            address=self.address(pool.code),
            currency=pool.currency,
            country=pool.code,
        )

    def product(self, country: str | None = None, *, code: str | None = None) -> Product:
        """A product; codes run ``SKU-00001``, ``SKU-00002``, ... unless given."""
        pool = self.pool(country)
        name, unit = self.pick(PRODUCTS)
        if code is None:
            self._sku += 1
            code = f"SKU-{self._sku:05d}"
        price = self.amount(Decimal("5"), Decimal("999.99"))
        return Product(code, name, unit, price, pool.vat_rate)

    def amount(self, low: Decimal, high: Decimal) -> Decimal:
        """A money amount with two decimals in ``[low, high]``."""
        cents = self.rng.randint(int(low * 100), int(high * 100))
        return Decimal(cents) / 100

    def vat_number(self, country: str) -> str:
        """A VAT/tax number of ``country`` with valid check digits, in its national form."""
        make, checks, valid = _VAT[country]
        for _ in range(1000):
            base = make(self)
            for check in checks:
                if valid(base + check):
                    return base + check
        raise RuntimeError(f"could not draw a valid {country} VAT number")  # pragma: no cover


def _is_valid(module: object) -> Callable[[str], bool]:
    check = module.is_valid  # type: ignore[attr-defined]
    return lambda number: bool(check(number))


#: country -> (draw the base, candidate check characters, validator)
_VAT: dict[str, tuple[Callable[[FakeData], str], Sequence[str], Callable[[str], bool]]] = {
    # partita IVA: 7-digit number, 3-digit office code (001-100), Luhn check digit
    "IT": (
        lambda f: f.digits("#######") + f"{f.rng.randint(1, 100):03d}",
        _DIGITS,
        _is_valid(it_iva),
    ),
    "HU": (lambda f: f.pick("123456789") + f.digits("######"), _DIGITS, _is_valid(hu_anum)),
    "DK": (lambda f: f.pick("123456789") + f.digits("######"), _DIGITS, _is_valid(dk_cvr)),
    "DE": (lambda f: f.pick("123456789") + f.digits("#######"), _DIGITS, _is_valid(de_vat)),
    # CIF of a company (S.A. "A", S.L. "B")
    "ES": (lambda f: f.pick("AB") + f.digits("#######"), _DIGITS + "ABCDEFGHIJ", _is_valid(es_cif)),
    # EIN: no check digit, but the two-digit prefix must be an IRS campus code
    "US": (lambda f: f.digits("#########"), ("",), _is_valid(us_ein)),
}
