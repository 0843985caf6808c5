"""Test support for syncbridge and its plugins (registered as the pytest plugin ``syncbridge``).

:class:`ConnectorContract`
    the contract suite a connector's tests subclass in five lines; see
    :mod:`syncbridge.testing.contract` for what it checks and how to configure it.
:class:`Harness`
    what each contract test runs against (connection, emulator, data); a subclass's own
    extra checks can take the same ``harness`` fixture.
:func:`default_sample`
    the canonical sample records the suite writes unless a class overrides ``sample``.
:mod:`syncbridge.testing.servers`
    reaching the real database servers tests use, behind the ``postgres_url``,
    ``mariadb_url`` and ``redis_url`` fixtures of the pytest plugin.
"""

from syncbridge.testing.contract import ConnectorContract
from syncbridge.testing.harness import Fetched, Harness
from syncbridge.testing.samples import default_sample

__all__ = ["ConnectorContract", "Fetched", "Harness", "default_sample"]
