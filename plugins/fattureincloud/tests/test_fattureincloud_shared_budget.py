"""The rate budget is the company's, not the process's: the daemon and a run started by hand,
opening one state store, pace themselves against the same 300 requests per 5 minutes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncbridge.emulator.config import connection_toml
from syncbridge.http.ratelimit import RateLimitTransport
from syncbridge.http.transports import layers
from syncbridge.workspace import Workspace


def _limiter(workspace: Workspace) -> Any:
    transport = workspace.connection("fic").client._transport
    [layer] = [layer for layer in layers(transport) if isinstance(layer, RateLimitTransport)]
    return layer.limiter


def test_two_processes_on_one_state_store_spend_one_rate_budget(
    serve: Any, tmp_path: Path
) -> None:
    fic = serve(rate_limits=True)  # the emulator counts 300 per 5 minutes per company
    config = tmp_path / "syncbridge.toml"
    config.write_text(f'[state]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
                      + connection_toml("fic", "fattureincloud", fic.settings), "utf-8")
    daemon, by_hand = Workspace.load(config), Workspace.load(config)
    try:
        assert daemon.store.rate_budget == by_hand.store.rate_budget == Path(
            f"{tmp_path / 'state.db'}.rates")

        client = daemon.connection("fic").client
        statuses = {client.get("/c/1051/info/vat_types").status_code for _ in range(300)}
        assert statuses == {200}

        # the run started by hand finds the 5-minute budget spent and would wait for it
        assert _limiter(by_hand).try_acquire("fic", timeout=1) is False
        # which is what the API wants: a request now is refused for the whole company
        with fic.client() as raw:
            refused = raw.get("/c/1051/info/vat_types")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    finally:
        for workspace in (daemon, by_hand):
            workspace.close()
