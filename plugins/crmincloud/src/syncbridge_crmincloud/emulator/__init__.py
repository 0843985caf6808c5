"""The CRM in Cloud emulator (entry point ``syncbridge.emulators: crmincloud``).

``create_app(options)`` gives a :class:`CrmInCloudEmulator`: a tenant with a user
(``emulator.settings_for(base_url)``), API keys and Italian seeded data. Modules: ``app``
(paths, routing, auth, the records' endpoints), ``sessions`` (the user, keys, the JWTs
``Auth/Login`` hands out), ``odata`` (``$filter``/``$orderBy`` of the searches), ``schema``
(fields, validation, rendering), ``seed`` (data). Every assumption about the real API is
listed in the plugin's README.
"""

from syncbridge_crmincloud.emulator.app import KEY_FIELD, CrmInCloudEmulator, create_app

__all__ = ["KEY_FIELD", "CrmInCloudEmulator", "create_app"]
