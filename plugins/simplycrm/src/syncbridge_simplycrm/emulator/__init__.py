"""The Simply CRM emulator (entry point ``syncbridge.emulators: simplycrm``).

``create_app(options)`` gives a :class:`SimplyCrmEmulator`: vtiger's ``webservice.php`` with a
user (``emulator.settings_for(base_url)``) and Danish seeded data. Modules: ``app`` (the
endpoint, parameter sourcing, the operations), ``sessions`` (challenge, login, sessions),
``vtql`` (the query language), ``modules`` (fields as ``describe`` gives them), ``records``
(rendering, validation, inventory totals), ``seed`` (data). Every assumption about the real
API is listed in the plugin's README.
"""

from syncbridge_simplycrm.emulator.app import SimplyCrmEmulator, create_app

__all__ = ["SimplyCrmEmulator", "create_app"]
