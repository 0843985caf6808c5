"""syncbridge connector for Dinero (Visma Dinero), the Danish accounting system.

Modules: :mod:`~syncbridge_dinero.connector` (the hooks), :mod:`~syncbridge_dinero.settings`,
:mod:`~syncbridge.oauth.password` (the OAuth2 password grant with the API key),
:mod:`~syncbridge_dinero.api` (paths, listings, the error map), :mod:`~syncbridge_dinero.reads`,
:mod:`~syncbridge_dinero.writes`, :mod:`~syncbridge_dinero.mapping`, and the
:mod:`~syncbridge_dinero.emulator` of the API.
"""
