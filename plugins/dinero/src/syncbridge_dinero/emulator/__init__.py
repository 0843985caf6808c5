"""The Dinero API emulator (see :mod:`syncbridge_dinero.emulator.app`)."""

from syncbridge_dinero.emulator.app import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    ORGANIZATION_ID,
    TOKEN_PATH,
    DineroEmulator,
    create_app,
)
from syncbridge_dinero.emulator.books import seeded_guid

__all__ = [
    "API_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "ORGANIZATION_ID",
    "TOKEN_PATH",
    "DineroEmulator",
    "create_app",
    "seeded_guid",
]
