"""The connector contract: the hooks a syncbridge plugin implements.

A connector is a module (or object) with functions marked ``@syncbridge.hookimpl``,
published under the entry-point group ``syncbridge.connectors``::

    [project.entry-points."syncbridge.connectors"]
    acme = "syncbridge_acme.connector"

and, if it ships an emulator, under ``syncbridge.emulators``::

    [project.entry-points."syncbridge.emulators"]
    acme = "syncbridge_acme.emulator:create_app"

Each configured connection gets its own :class:`pluggy.PluginManager` holding the connector
and any extensions (entry-point group ``syncbridge.extensions``), so an extension can wrap
:func:`map` with ``@hookimpl(wrapper=True)`` to adjust one field without forking a connector.

Every hook is ``firstresult``: the first implementation that returns something other than
None answers. Hook code is plain synchronous Python. The ``client`` it receives
(:class:`syncbridge.resources.HookClient`) depends on ``ConnectorInfo.uses_http``. A
connector that speaks HTTP (the default) gets a :class:`syncbridge.http.Client`, an
:class:`httpx.Client` with the connection's base URL, auth, retries, rate limits and request
log already in place. One that declares ``uses_http=False`` (a database, a file) gets a
:class:`syncbridge.resources.ResourceHolder`, and no HTTP client is built for it (nor is
:func:`auth` asked). Either way ``client.settings`` holds the connection's validated settings, and
``client.resource(key, factory)`` keeps a per-connection object (a database engine, a cache
of looked-up ids), made on first use and closed with the connection::

    @hookimpl
    def fetch(client, entity, since, query):
        db = client.resource("acme.database", lambda: Database(client.settings))
        ...

Errors: raise :class:`syncbridge.errors.AuthError` for credentials problems (the run stops
with your message), :class:`syncbridge.errors.ConnectorError` for anything else that stops the
whole entity, and report per-record problems in :class:`syncbridge.records.UpsertResult`
rather than raising, so that one bad record never stops a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import pluggy

if TYPE_CHECKING:
    import httpx

    from syncbridge.credentials import Credentials
    from syncbridge.describe import ConnectorInfo
    from syncbridge.models import CanonicalRecord
    from syncbridge.oauth import OAuthApp
    from syncbridge.records import CheckResult, NativeRecord, Page, UpsertItem, UpsertResult
    from syncbridge.resources import HookClient
    from syncbridge.settings import ConnectorSettings
    from syncbridge.webhooks import Notice, WebhookRequest

PROJECT = "syncbridge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def describe() -> ConnectorInfo:
    """Say what the connector is: its settings model, entities, capabilities and limits.

    Called once per connection, before anything else. Declare only capabilities the
    connector really has; declare entities the system lacks in ``unsupported`` with the
    reason, so a sync that asks for them fails at config time with that reason.
    """


@hookspec(firstresult=True)
def configure(info: ConnectorInfo, settings: ConnectorSettings) -> ConnectorInfo | None:
    """Adjust what :func:`describe` said to one connection's settings.

    :param info: the connector's general info, from :func:`describe`.
    :param settings: the validated settings of this connection.

    Return a changed copy (``info.model_copy(update=...)``) when the settings change what the
    connection can do: a schema mapping that covers fewer fields (``EntityInfo.fields``, so
    the engine never blanks a field this connection cannot hold), a page or batch size, a
    capability that needs a setting. Return None when nothing changes.
    """


@hookspec(firstresult=True)
def auth(
    settings: ConnectorSettings, credentials: Credentials, connection: str
) -> httpx.Auth | None:
    """Return the :class:`httpx.Auth` that signs this connection's requests.

    :param settings: the validated settings of the connection.
    :param connection: the connection's name in the config, for messages that tell the
        user what to run (``syncbridge auth <connection>``).
    :param credentials: the connection's stored credentials (OAuth tokens and the like);
        persist refreshed tokens with ``credentials.save(...)`` so the newest refresh token
        is never lost.

    Return None when requests need no signing. Raise ``AuthError`` with the fix ("run
    `syncbridge auth <conn>`") when credentials are missing.
    """


@hookspec(firstresult=True)
def oauth(settings: ConnectorSettings) -> OAuthApp | None:
    """Describe the connection's OAuth2 application, if the system uses OAuth.

    Return a :class:`syncbridge.oauth.OAuthApp` built from ``settings`` (client id/secret and
    the system's endpoints; tests point them at the emulator). ``syncbridge auth <conn>``
    then runs the authorization-code flow and stores the tokens, and your :func:`auth`
    returns ``syncbridge.oauth.OAuth2Auth(app, credentials)`` to sign requests with them.
    Return None when these settings use another kind of credentials (e.g. a manual token).
    """


@hookspec(firstresult=True)
def check(client: HookClient) -> CheckResult:
    """Test the connection: can we reach the system with these credentials?

    :param client: the connection's client (``client.settings`` holds its settings).

    Make one cheap authenticated request. Return ``CheckResult(ok=False, reason=...)`` with a
    reason a person can act on (wrong key, expired token, unknown company) rather than
    raising. Fill ``companies`` and ``scopes`` with what the credentials reach.
    """


@hookspec(firstresult=True)
def fetch(
    client: HookClient, entity: str, since: str | None, query: Mapping[str, Any]
) -> Iterator[Page]:
    """Stream native records of ``entity``, one :class:`~syncbridge.records.Page` at a time.

    :param client: the connection's client.

    :param entity: a canonical entity name the connector declared.
    :param since: the cursor of the previous run, or None for everything. With a cursor,
        yield at least the records changed at or after it (repeats are harmless: the engine
        recognises unchanged records by hash) and never fewer.
    :param query: server-side hints the connector may push down: ``filter`` (field ->
        value or list of values, canonical names), ``ids`` (only these native ids).
        The engine applies ``filter`` again after mapping, so pushing it down is optional.

    Set ``Page.cursor`` to the value to resume from next time (typically the largest
    modification time seen); report deletions the system exposes in ``Page.deleted``.
    Facts :func:`map` needs that a record does not carry (looked up while reading: whether a
    customer is a company, a tax code's rate) go in ``Page.context`` by native id, never
    into the record; a record that could not be read whole gets ``{"error": "why"}`` there,
    for :func:`map` to fail it with.
    """


@hookspec(firstresult=True)
def upsert(client: HookClient, entity: str, items: list[UpsertItem]) -> Iterator[UpsertResult]:
    """Create (``item.id is None``) or update native records; yield one result per item.

    :param client: the connection's client.
    :param entity: the canonical entity name.
    :param items: the writes, each with its idempotency ``key``, ``changed`` fields and the
        ``context`` :func:`map` gave it on the way out.

    The engine sends at most ``EntityInfo.batch_size`` items per call; use the system's batch
    endpoint when it has one. Report a record the system rejects as
    ``UpsertResult.failed(key, message)`` and go on with the rest. A result's ``record`` (the
    record as stored) comes with its ``context`` as :func:`fetch` would give it.
    """


@hookspec(firstresult=True)
def lookup(client: HookClient, entity: str, keys: list[str]) -> dict[str, str]:
    """Find records earlier created with these idempotency keys: ``{key: native_id}``.

    :param client: the connection's client.
    :param entity: the canonical entity name.
    :param keys: ``UpsertItem.key`` values of creates a killed run handed to the connector
        without their outcome being recorded; all of an entity's at once (up to a few
        thousand after a big run), so ask for many per request where the API can.

    Used after a crash, before anything else: a key found links its record as the create's
    outcome; **a key left out of the result is taken as a create that made nothing**, and
    the record is created again. So:

    - Implement it, and declare ``Capability.LOOKUP``, only where every create writes
      ``UpsertItem.key`` into the record in the same request (an external-id field, a
      reference column, a custom field). If a setting can turn that off, drop ``LOOKUP`` in
      :func:`configure` for such connections rather than answering with nothing.
    - Return ids only of records that exist now, whatever their other values.
    - If the system cannot be asked (an error, a timeout), raise ``ConnectorError``: never
      return a partial answer. The engine then holds those creates and asks again next run.

    Without ``LOOKUP`` the engine recognises the record by its content instead (the target's
    new records that hold exactly what the create sent), which cannot tell identical records
    apart: where the system has a place for a reference, prefer writing the key there.
    """


@hookspec(firstresult=True)
def delete(client: HookClient, entity: str, ids: list[str]) -> Iterator[UpsertResult]:
    """Delete native records by id (only called for entities configured with ``deletes``).

    :param client: the connection's client.
    :param entity: the canonical entity name.
    :param ids: native ids of the records to delete.

    Yield one result per id, with ``key`` set to the id.
    """


@hookspec(firstresult=True)
def map(
    entity: str,
    record: NativeRecord | CanonicalRecord,
    direction: Literal["in", "out"],
    settings: ConnectorSettings,
    context: dict[str, Any],
) -> CanonicalRecord | NativeRecord:
    """Translate between the native and the canonical form: the connector's default preset.

    :param entity: the canonical entity name.
    :param record: a native dict (``"in"``) or a canonical model (``"out"``).
    :param direction: ``"in"`` or ``"out"``.
    :param settings: the connection's settings, for mappings that depend on them (a stage
        map, a default country).
    :param context: the record's facts beside it, a dict of JSON values. ``"in"``: what
        :func:`fetch` put in ``Page.context`` for this record (or what :func:`upsert` put in
        ``UpsertResult.context``), empty when nothing; read it, do not change it. ``"out"``:
        a fresh, empty dict; put in it what :func:`upsert` will need beside the native record
        (it arrives as ``UpsertItem.context``).

    An implementation simply omits the arguments it does not use (most need neither
    ``settings`` nor ``context``).

    ``direction="in"``: native dict -> canonical model (``syncbridge.models.MODELS[entity]``);
    set the canonical ``id`` to the native id. Let pydantic's ``ValidationError`` propagate
    for bad data: the engine reports the record as failed, names the field, and goes on.

    ``direction="out"``: canonical model -> native dict ready for ``upsert``. References
    (``company_id``, ``vat_rate_id``, ...) arrive already translated to this system's ids.

    **No ``_``-prefixed keys in native records**, in either direction: a native record holds
    what the system holds, and everything else travels as its context. Write the context of
    both directions in the same terms: to see what the target would hold of a write, the
    engine maps the record out and reads the result back in with the context ``map(out)``
    filled (a status the system cannot tell from another reads back as that other).

    ``map`` may run in a forked worker process (a long read is mapped there while the engine
    fetches): it must depend on nothing but its arguments and the connector's own code, and
    keep no state between calls.

    Errors are per record. Raise ``syncbridge.errors.SkipRecord("reason")`` for a record the
    integration leaves out on purpose (reported ``skipped``, in ``plan`` as in ``run``), and
    ``syncbridge.errors.RecordError("field: what is wrong and the fix")`` for one that cannot
    be mapped (a context's ``"error"`` too); anything else a mapping raises (a ``KeyError`` on
    a missing key, say) also fails only that record, reported with the exception's type and
    message. A failed record is retried on the next run, with its native record and context
    as read. Only ``AuthError``/``ConnectorError`` raised by ``fetch`` or ``upsert`` as a
    whole stop an entity.
    """


@hookspec(firstresult=True)
def webhook(settings: ConnectorSettings, request: WebhookRequest) -> Notice | None:
    """Verify a change notification the system sent, and say what changed.

    :param settings: the connection's settings (the verifier token, the application token,
        the company the notifications must be about).
    :param request: the request as ``syncbridge webhooks`` received it: method, full URL,
        lower-case headers, query and the raw body (what a signature is computed over).

    Verify it the system's way first: raise :class:`syncbridge.webhooks.WebhookRefused`
    with the reason (never the expected secret) for a signature that does not match, a
    token that is not this connection's, or a notification about another account. Then
    return a :class:`~syncbridge.webhooks.Notice`: the system's id of the notification (the
    receiver ignores an id it has seen: retries, duplicates, replays), when it was sent if
    the system says, the records it names as canonical entity and native id, and the body to
    answer with where the system expects one (a subscription's verification challenge).
    Name only entities the connector declares; the receiver starts a run of each one a sync
    of the tenant has, which reads the changes as any run does: the notification is a nudge,
    never the data. Return None when the connector receives no notifications.

    It runs in the receiver's request handler, for every notification: make no requests
    and keep no state; everything it needs is in ``settings`` and ``request``.
    """


@hookspec(firstresult=True)
def subscribe(client: HookClient, url: str, entities: list[str]) -> list[str] | None:
    """Ask the system to notify ``url`` of changes to ``entities``; return the subscription
    ids.

    :param client: the connection's client.
    :param url: where ``syncbridge webhooks`` receives this connection's notifications.
    :param entities: canonical entity names; subscribe to those the system can notify,
        skip the rest (polling covers them).

    Make it idempotent: a subscription already there for ``url`` is kept, not doubled.
    Return None when the system has no subscription API (QuickBooks: webhooks are set in
    Intuit's developer dashboard; say so in the connector's docs).
    """


def hook_names() -> Iterable[str]:
    """The names of all hooks, in contract order (used by docs and the meta-tests)."""
    return (
        "describe", "configure", "auth", "oauth", "check", "fetch", "upsert", "lookup",
        "delete", "map", "webhook", "subscribe",
    )
