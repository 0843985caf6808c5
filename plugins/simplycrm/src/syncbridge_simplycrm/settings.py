"""The settings of a ``simplycrm`` connection (``[connections.<name>.settings]``).

Simply CRM is reached through vtiger's ``webservice.php`` with a user name and that user's
*access key* (My Preferences > Access Key); the key never travels as such, only
``md5(challenge token + key)``. ``fields`` is the "Custom" mapping of the Simply CRM Dinero
module: per entity, canonical field = Simply CRM field, over the connector's presets (the
"Default" mapping), which is how custom fields (``cf_NNN``) are synced.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from syncbridge import Client, ConnectorSettings, HttpSettings

#: a vtiger field name: stock fields and custom fields (``cf_853``)
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: a custom field: ``cf_`` and its number
_CUSTOM_FIELD = re.compile(r"^cf_\d+$")


class SimplyCrmSettings(HttpSettings):
    """Where the CRM is, who we are, how changes are read, and the custom field mapping."""

    base_url: str = Field(
        description="the Simply CRM instance's address, without /webservice.php "
        "(https://yourcompany.simply-crm.dk)",
    )
    username: str = Field(description="the CRM user the integration logs in as")
    access_key: SecretStr = Field(
        description="that user's access key (My Preferences > Access Key), not the password",
    )
    sync_type: Literal["application", "userandgroup", "user"] = Field(
        default="application",
        description="whose changes `sync` reports: every user's (application; the user must "
        "be an administrator), the user's and their groups' records, or the user's own",
    )
    invoice_party: Literal["organisation", "contact"] = Field(
        default="organisation",
        description='the "Priority module" for invoices: who an invoice read from the CRM is '
        "for when it names both an organisation and a contact: the organisation "
        "(company_id), or the contact (contact_id only: a personal invoice)",
    )
    fields: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='the "Custom" mapping: per entity, canonical field = Simply CRM field '
        '(e.g. company.vat_number = "cf_853"), over the connector\'s presets; "" leaves a '
        "preset field unmapped",
    )

    key_fields: dict[str, str] = Field(
        default_factory=dict,
        description="per entity, a text custom field of its module (e.g. company = "
        '"cf_857") where each create stores syncbridge\'s idempotency key, so that a create '
        "whose answer was lost is found instead of made twice; without one, such creates "
        "are recognised by their content",
    )

    @field_validator("key_fields")
    @classmethod
    def _key_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for entity, name in value.items():
            if not _CUSTOM_FIELD.match(name):
                raise ValueError(
                    f"key_fields.{entity}: {name!r} is not a custom field; create a text "
                    "field in the module (Settings > Module Layouts) and give its name, "
                    "e.g. cf_857"
                )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value.endswith("/webservice.php"):
            value = value[: -len("/webservice.php")]
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be the instance's http(s) address, such as https://yourcompany.simply-crm.dk"
            )
        return value

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name the CRM user whose access key is given")
        return value

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        # which entities and canonical fields may be re-mapped is checked against the presets
        # in mapping.field_map (this module cannot import mapping: it imports the settings)
        for entity, fields in value.items():
            for canonical, native in fields.items():
                if native and not _FIELD_NAME.match(native):
                    raise ValueError(
                        f"fields.{entity}.{canonical}: {native!r} is not a Simply CRM field "
                        "name; use the name describe gives (e.g. cf_853), or \"\" to unmap"
                    )
        return value


def settings_of(source: Client | ConnectorSettings) -> SimplyCrmSettings:
    """The connection's settings, typed: a hook's ``settings``, or a client's."""
    return SimplyCrmSettings.of(source)
