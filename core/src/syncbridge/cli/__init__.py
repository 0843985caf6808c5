"""The ``syncbridge`` command. Each command group lives in its own module of this package.

The group runs every command inside the CLI's one error boundary
(:func:`syncbridge.cli.common.boundary`): a failure is a sentence and an exit code, a
traceback only with ``--debug``.
"""

from __future__ import annotations

import importlib

import click

#: command name -> "module:attribute", imported only when that command runs
COMMANDS = {
    "auth": "syncbridge.cli.auth:auth",
    "connectors": "syncbridge.cli.connectors:connectors",
    "check": "syncbridge.cli.check:check",
    "init": "syncbridge.cli.init:init",
    "log": "syncbridge.cli.log:log",
    "emulate": "syncbridge.cli.emulate:emulate",
    "held": "syncbridge.cli.held:held",
    "lines": "syncbridge.cli.lines:lines",
    "pick": "syncbridge.cli.pick:pick",
    "plan": "syncbridge.cli.sync:plan",
    "push": "syncbridge.cli.push:push",
    "run": "syncbridge.cli.sync:run",
    "status": "syncbridge.cli.status:status",
    "report": "syncbridge.cli.report:report",
    "daemon": "syncbridge.cli.daemon:daemon",
    "demo": "syncbridge.cli.demo:demo",
    "documents": "syncbridge.cli.documents:documents",
    "worker": "syncbridge.cli.worker:worker",
    "scheduler": "syncbridge.cli.scheduler:scheduler",
    "webhooks": "syncbridge.cli.webhooks:webhooks",
    "tenants": "syncbridge.cli.tenants:tenants",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when it is used: ``--help`` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        from syncbridge.cli.common import boundary

        with boundary(ctx):
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./syncbridge.toml).",
)
@click.option(
    "--debug",
    is_flag=True,
    envvar="SYNCBRIDGE_DEBUG",
    help="Show the traceback of a failure instead of its one-line explanation "
    "(also SYNCBRIDGE_DEBUG=1).",
)
@click.version_option(package_name="syncbridge")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Keep business data in step between CRMs and invoicing systems.

    Exit codes: 0 ok, 1 the run finished with failed records (or a system or the state
    store could not be reached), 2 usage or config error, 130 interrupted.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["debug"] = debug
