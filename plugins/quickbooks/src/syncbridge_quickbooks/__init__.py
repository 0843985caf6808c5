"""syncbridge connector for QuickBooks Online (Intuit Accounting API v3), with an emulator.

The hooks are in :mod:`syncbridge_quickbooks.connector`; the emulator factory is
:func:`syncbridge_quickbooks.emulator.create_app`. See README.md for settings, auth set-up,
entities and the assumptions the connector makes.
"""
