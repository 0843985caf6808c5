"""Native <-> canonical values: money strings, countries, statuses, the field map."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncbridge import ConfigError, RecordError
from syncbridge.models.documents import DocumentStatus
from syncbridge_simplycrm import mapping
from syncbridge_simplycrm.settings import SimplyCrmSettings


def settings(**values: object) -> SimplyCrmSettings:
    return SimplyCrmSettings.model_validate(
        {"base_url": "https://x.simply-crm.dk/webservice.php", "username": "u",
         "access_key": "k", **values}
    )


def test_money_strings_become_exact_decimals() -> None:
    assert mapping.money("10.50000000") == Decimal("10.5")
    assert str(mapping.money("100.00000000")) == "100"  # not 1E+2
    assert mapping.money("") is None
    with pytest.raises(RecordError, match="'abc' is not a number"):
        mapping.money("abc")


def test_countries_are_names_in_the_crm_and_codes_in_syncbridge() -> None:
    assert mapping.country_in("Denmark") == "DK"
    assert mapping.country_in("dk") == "DK"
    assert mapping.country_out("DK") == "Denmark"
    assert mapping.country_out("TW") == "Taiwan"  # the common name, not the official one
    with pytest.raises(RecordError, match="'Danmark' is neither a country name nor an ISO"):
        mapping.country_in("Danmark")


def test_every_status_goes_out_and_reads_back_as_a_status() -> None:
    for status in DocumentStatus:
        native = mapping.STATUS_OUT[status]
        assert native in mapping.STATUS_IN


def test_the_base_url_may_be_given_with_webservice_php() -> None:
    assert settings().base_url == "https://x.simply-crm.dk"


def test_the_custom_map_overrides_and_unmaps_preset_fields() -> None:
    custom = settings(fields={"company": {"vat_number": "cf_853", "notes": "", "name": "cf_9"}})
    fields = mapping.field_map("company", custom)
    assert fields["vat_number"] == "cf_853" and fields["name"] == "cf_9"
    assert "notes" not in fields
    assert mapping.field_map("contact", custom) == mapping.PRESETS["contact"]
    with pytest.raises(ValueError, match=r"fields.company.name: 'cf 9' is not a Simply CRM"):
        settings(fields={"company": {"name": "cf 9"}})
    with pytest.raises(ConfigError, match=r"settings\.fields\.invoice\.total: not a plain field"):
        mapping.field_map("invoice", settings(fields={"invoice": {"total": "cf_1"}}))
