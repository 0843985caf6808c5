"""Exceptions with messages meant for the person running syncbridge."""

from __future__ import annotations


class SyncbridgeError(Exception):
    """Base of every error syncbridge raises on purpose."""


class ConfigError(SyncbridgeError):
    """The configuration is wrong; the message names the key path and the fix. Exit code 2."""


class ConnectorError(SyncbridgeError):
    """A connector could not do what was asked (its system refused, or it is misconfigured)."""


class AuthError(ConnectorError):
    """Credentials are missing, wrong, expired or revoked; the message says how to fix it."""


class RecordError(SyncbridgeError):
    """One record cannot be synced; the run reports it and goes on."""


class SkipRecord(RecordError, ValueError):
    """A record the integration deliberately leaves out; the message is the reason.

    Raise it from ``map`` (either direction): the engine reports the record as ``skipped``
    with the message ("no product code"), not as failed, and does not retry it until the
    record changes.
    """


class LeaseBusy(SyncbridgeError):
    """Another process holds the lease of a sync/entity."""
