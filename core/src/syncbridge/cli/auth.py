"""``syncbridge auth``: connect a connection by OAuth2, or disconnect it."""

from __future__ import annotations

import click

from syncbridge.cli.common import console, open_workspace
from syncbridge.errors import ConfigError
from syncbridge.oauth import authorize, revoke


@click.command()
@click.argument("connection")
@click.option(
    "--revoke",
    "do_revoke",
    is_flag=True,
    help="Disconnect: revoke the tokens at the system and delete them here.",
)
@click.option("--port", type=int, default=0, help="Port of the local redirect listener.")
@click.option("--no-browser", is_flag=True, help="Print the address instead of opening it.")
@click.option(
    "--timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds to wait for the authorisation.",
)
@click.pass_context
def auth(
    ctx: click.Context,
    connection: str,
    do_revoke: bool,
    port: int,
    no_browser: bool,
    timeout: float,
) -> None:
    """Authorise CONNECTION with the system's OAuth2 consent page, storing the tokens.

    The redirect comes back to a listener on 127.0.0.1; the tokens go to the state store,
    never to the config file. With --revoke, the connection is disconnected.
    """
    workspace = open_workspace(ctx)
    conn = workspace.connection(connection)
    app = conn.pm.hook.oauth(settings=conn.settings)
    if app is None:
        raise ConfigError(
            f"connections.{connection}: {conn.info.name} uses no OAuth with these settings "
            "(it authenticates with the credentials in its settings)"
        )
    credentials = workspace.store.credentials(connection)
    if not do_revoke:
        # no consent page for tokens that could not be stored (a missing key) afterwards
        workspace.store.cipher_for_credentials()
    if do_revoke:
        console.print(f"{connection}: {revoke(app, credentials)}")
        return
    kept = authorize(
        app,
        credentials,
        port=port,
        open_browser=not no_browser,
        timeout=timeout,
        say=lambda text: console.print(text, soft_wrap=True),
    )
    extra = ", ".join(f"{k}={v}" for k, v in kept.items() if k in app.keep)
    console.print(f"[green]●[/green] {connection}: authorised" + (f" ({extra})" if extra else ""))
