"""syncbridge connector for CRM in Cloud (TeamSystem), with an offline emulator of its Web API.

Entry points: ``syncbridge.connectors: crmincloud = syncbridge_crmincloud.connector`` and
``syncbridge.emulators: crmincloud = syncbridge_crmincloud.emulator:create_app``; settings:
:class:`syncbridge_crmincloud.settings.CrmInCloudSettings`. The README lists every assumption
made about the API, which has no public specification.

Modules: ``connector`` (the hooks), ``api`` (the API's paths, searches and what its answers
mean, declared for :mod:`syncbridge.rest`), ``reads``, ``writes``, ``categories`` (the catalog
categories' cache), ``mapping`` and ``convert`` (native <-> canonical), ``auth`` (the JWT
session), ``settings``; ``emulator/`` is the offline API.
"""

from syncbridge_crmincloud.settings import CrmInCloudSettings

__all__ = ["CrmInCloudSettings"]
