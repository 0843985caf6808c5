"""The settings of a ``{{ cookiecutter.connector_name }}`` connection (``[connections.<name>.settings]``).

``HttpSettings`` already brings ``base_url``, ``timeout``, ``max_retries`` and ``rate_limit``;
this adds the API key and the page size. The key is a :class:`~pydantic.SecretStr`, so it prints
as ``**********`` wherever settings end up, and the core redacts it from the request log.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from syncbridge import HttpSettings

#: where the real API lives; tests and the demo point ``base_url`` at the emulator instead
PRODUCTION_URL = "https://api.{{ cookiecutter.connector_name.replace('_', '-') }}.example/v1"
#: the largest ``per_page`` the API accepts
MAX_PAGE_SIZE = 100


class {{ cookiecutter.class_name }}Settings(HttpSettings):
    """How to reach one {{ cookiecutter.system_title }} account."""

    base_url: str = Field(default=PRODUCTION_URL, description="the API's base URL, with /v1")
    api_key: SecretStr = Field(
        description="API key from the account's settings page; write it as ${ENV_VAR} in the "
        "config rather than inline"
    )
    page_size: int = Field(
        default=MAX_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="records per page when reading (the API allows at most 100)",
    )
