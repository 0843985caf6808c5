"""syncbridge connector for Számlázz.hu (Számla Agent), with an offline emulator of the Agent.

Entry points: ``syncbridge.connectors: szamlazz = syncbridge_szamlazz.connector`` and
``syncbridge.emulators: szamlazz = syncbridge_szamlazz.emulator:create_app``; settings:
:class:`syncbridge_szamlazz.settings.SzamlazzSettings`. The README lists every assumption made
about the API.

Modules: ``connector`` (the hooks), ``agent`` (one multipart POST per action and what its
in-band answers mean), ``xmltree`` (ordered XML in, plain dicts out), ``numbers`` (the
account's document number sequences), ``reads`` (walking them), ``writes`` (issue, look up,
delete proformas, reverse, credit entries), ``mapping`` and ``vat`` (native <-> canonical),
``taxnumber`` (Hungarian tax numbers), ``settings``; ``emulator/`` is the offline Agent.
"""

from syncbridge_szamlazz.settings import SzamlazzSettings

__all__ = ["SzamlazzSettings"]
