"""Seeded fake data: reproducible, local-looking, with valid tax numbers."""

from __future__ import annotations

import random
from dataclasses import astuple

import pytest
from stdnum import get_cc_module

from syncbridge.emulator import FakeData
from syncbridge.emulator.fake import ascii_slug
from syncbridge.emulator.pools import POOLS


def draw(seed: int) -> list[tuple[object, ...]]:
    fake = FakeData(random.Random(seed))
    return [astuple(fake.company()) + astuple(fake.person()) for _ in range(10)]


def test_same_seed_same_data_different_seed_different_data() -> None:
    assert draw(5) == draw(5)
    assert draw(5) != draw(6)


@pytest.mark.parametrize("country", sorted(POOLS))
def test_companies_look_local_and_carry_valid_vat_numbers(country: str) -> None:
    fake = FakeData(random.Random(1))
    validator = {"IT": "vat", "HU": "anum", "DK": "cvr", "DE": "vat", "ES": "cif", "US": "ein"}
    module = get_cc_module(country.lower(), validator[country])
    assert module is not None
    for _ in range(25):
        company = fake.company(country)
        assert module.is_valid(company.vat_number), company.vat_number
        assert company.country == company.address.country == country
        assert company.currency == POOLS[country].currency
        assert company.email.isascii() and company.email.endswith(f".{POOLS[country].tld}")


def test_restricting_countries_and_local_name_order() -> None:
    fake = FakeData(random.Random(2), countries=["HU"])
    person = fake.person()
    assert person.country == "HU"
    assert person.full_name == f"{person.last_name} {person.first_name}"
    with pytest.raises(ValueError):
        FakeData(random.Random(2), countries=["XX"])


def test_products_have_sequential_codes_and_two_decimal_prices() -> None:
    fake = FakeData(random.Random(3))
    products = [fake.product("DE") for _ in range(3)]
    assert [p.code for p in products] == ["SKU-00001", "SKU-00002", "SKU-00003"]
    assert all(p.price == p.price.quantize(p.price.__class__("0.01")) for p in products)
    assert {p.vat_rate for p in products} == {POOLS["DE"].vat_rate}


def test_ascii_slug_folds_accents_for_addresses() -> None:
    assert ascii_slug("Sørensen Byg") == "sorensen-byg"
    assert ascii_slug("Müller Straße") == "muller-strasse"
    assert ascii_slug("Kovács Építő") == "kovacs-epito"
