"""The demos behind ``make demo`` and ``syncbridge demo``.

``crm_fic`` (the default when both plugins are installed) syncs the CRM in Cloud and
Fatture in Cloud emulators over HTTP, as seed 000 describes; ``sql`` syncs two generated
SQLite databases and needs no plugin but the sql connector.
"""
