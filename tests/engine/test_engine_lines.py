"""Sync lines (seed 003): ``run --line`` runs exactly its entity, lines run in their ``after``
order in a run and in the daemon, and ``--full --line`` is "sync all" for that line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from syncbridge.engine.schedule import Schedule
from syncbridge.workspace import Workspace
from tests.engine.bed import Bed, company, toml_value


def product(index: int) -> dict[str, object]:
    return {"name": f"Sector {index}", "code": f"S{index}"}


def lines_bed(tmp_path: Path) -> Bed:
    return Bed(
        tmp_path,
        {
            "company": {"line": "customers", "direction": "left-to-right"},
            "product": {"line": "sectors", "direction": "left-to-right"},
        },
    )


def test_run_line_syncs_exactly_that_entity(tmp_path: Path) -> None:
    bed = lines_bed(tmp_path)
    bed.put("left", "company", [company(i) for i in range(2)])
    bed.put("left", "product", [product(i) for i in range(3)])

    plan = bed.cli("plan", "--line", "sectors", "-q")
    assert plan.exit_code == 0, plan.output
    assert bed.outcomes(1) == {"created": 3}
    assert bed.rows("right", "product") == []  # a plan writes nothing

    result = bed.cli("run", "--line", "sectors", "--json")
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)["runs"]
    assert [e["entity"] for e in run["entities"]] == ["product"]
    assert sorted(r["name"] for r in bed.rows("right", "product")) == [
        "Sector 0",
        "Sector 1",
        "Sector 2",
    ]
    assert bed.rows("right", "company") == []  # the customers line did not run
    assert {item.entity for item in bed.items(run["run"])} == {"product"}
    assert bed.outcomes(run["run"]) == {"created": 3}

    both = bed.cli("run", "--line", "customers", "--line", "sectors", "--json")
    assert both.exit_code == 0, both.output
    [run] = json.loads(both.stdout)["runs"]
    assert [e["entity"] for e in run["entities"]] == ["company", "product"]
    assert bed.outcomes(run["run"]) == {"created": 2}  # products: in step already
    assert sorted(r["name"] for r in bed.rows("right", "company")) == [
        "Company 0000",
        "Company 0001",
    ]


def test_full_line_is_sync_all_for_that_line(tmp_path: Path) -> None:
    bed = lines_bed(tmp_path)
    bed.put("left", "company", [company(0)])
    bed.put("left", "product", [product(0)])
    assert bed.cli("run", "-q").exit_code == 0
    [right_company] = bed.rows("right", "company")
    [right_product] = bed.rows("right", "product")
    bed.edit("right", "company", str(right_company["id"]), city="Torino")  # behind our back
    bed.edit("right", "product", str(right_product["id"]), name="Renamed")

    incremental = bed.cli("run", "--line", "customers", "-q")
    assert incremental.exit_code == 0, incremental.output
    assert bed.rows("right", "company")[0]["city"] == "Torino"  # nothing changed on the left

    full = bed.cli("run", "--line", "customers", "--full", "--json")
    assert full.exit_code == 0, full.output
    [run] = json.loads(full.stdout)["runs"]
    assert bed.outcomes(run["run"]) == {"updated": 1}
    assert bed.rows("right", "company")[0]["city"] == "Milano"  # put back in step
    assert bed.rows("right", "product")[0]["name"] == "Renamed"  # the other line: untouched


def test_unknown_and_conflicting_line_options_are_refused(tmp_path: Path) -> None:
    bed = lines_bed(tmp_path)
    unknown = bed.cli("run", "--line", "custmers")
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "config error: --line: no line named 'custmers'; did you mean 'customers'? "
        "(lines: customers, sectors)\n"
    )
    mixed = bed.cli("plan", "--line", "customers", "--entity", "company")
    assert mixed.exit_code == 2
    assert mixed.stderr == (
        "config error: --line names its sync and entity already; drop --entity, or select "
        "with --sync/--entity instead of --line\n"
    )
    assert bed.items(1) == []  # refused before any run started

    bed.rewrite({"company": {}})
    none = bed.cli("run", "--line", "customers")
    assert none.exit_code == 2
    assert none.stderr == (
        "config error: --line: no line named 'customers': the config has no lines (name an "
        'entity rule with line = "...", or use `syncbridge lines add`)\n'
    )


def two_syncs(tmp_path: Path, stats_after: bool, every: str = "manual") -> Bed:
    """Sync b_main (customers: left -> right) and sync a_stats (statistics: stats -> right,
    onto the same customers). By name, a_stats runs first; ``after`` puts it second."""
    bed = Bed(tmp_path, {})
    bed.settings["stats"] = {"url": f"sqlite:///{tmp_path / 'stats.db'}"}
    text = [f"[state]\nurl = {toml_value('sqlite:///state.db')}\n"]
    for side in ("left", "right", "stats"):
        text.append(f'[connections.{side}]\nconnector = "sql"\n[connections.{side}.settings]')
        text.append(f"url = {toml_value(bed.settings[side]['url'])}\n")
    text.append('[syncs.b_main]\nleft = "left"\nright = "right"\n')
    text.append(f'[syncs.b_main.entities.company]\nline = "customers"\nevery = "{every}"\n')
    text.append('[syncs.a_stats]\nleft = "stats"\nright = "right"\n')
    text.append(f'[syncs.a_stats.entities.company]\nline = "statistics"\nevery = "{every}"')
    if stats_after:
        text.append('after = ["customers"]')
    bed.config.write_text("\n".join(text) + "\n", encoding="utf-8")
    bed.put("left", "company", [company(i) for i in range(2)])
    bed.put("stats", "company", [company(i, notes="sales 2026: 1000") for i in range(2)])
    return bed


def test_a_line_runs_after_the_lines_of_its_after(tmp_path: Path) -> None:
    bed = two_syncs(tmp_path, stats_after=True)
    listed = bed.cli("lines", "list", "--json")
    assert [row["line"] for row in json.loads(listed.stdout)] == ["customers", "statistics"]

    result = bed.cli("run", "--json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert [(r["sync"], r["entities"][0]["counts"]) for r in runs] == [
        ("b_main", {"created": 2}),  # the customers line made the customers
        ("a_stats", {"updated": 2}),  # the statistics line found them, and adds its data
    ]
    assert [row["notes"] for row in bed.rows("right", "company")] == ["sales 2026: 1000"] * 2


def test_without_after_the_syncs_keep_their_order(tmp_path: Path) -> None:
    bed = two_syncs(tmp_path, stats_after=False)
    result = bed.cli("run", "--json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert [(r["sync"], r["entities"][0]["counts"]) for r in runs] == [
        ("a_stats", {"created": 2}),
        ("b_main", {"linked": 2}),
    ]


def test_line_alone_does_not_run_its_after_lines(tmp_path: Path) -> None:
    bed = two_syncs(tmp_path, stats_after=True)
    result = bed.cli("run", "--line", "statistics", "--json")
    assert result.exit_code == 0, result.output
    assert [r["sync"] for r in json.loads(result.stdout)["runs"]] == ["a_stats"]
    together = bed.cli("run", "--line", "statistics", "--line", "customers", "--json")
    assert [r["sync"] for r in json.loads(together.stdout)["runs"]] == ["b_main", "a_stats"]


def test_the_daemon_runs_lines_due_together_in_their_after_order(tmp_path: Path) -> None:
    bed = two_syncs(tmp_path, stats_after=True, every="1h")
    with Workspace.load(bed.config) as workspace:
        schedule = Schedule(workspace)
        assert [(s, e) for s, e, _ in schedule.jobs()] == [
            ("b_main", "company"),
            ("a_stats", "company"),
        ]
        stop = threading.Event()
        runner = threading.Thread(target=schedule.serve, args=(stop, 30))
        runner.start()
        try:
            for _ in range(300):
                if len(schedule.ticks) == 2:
                    break
                threading.Event().wait(0.1)
        finally:
            stop.set()
            runner.join()
    assert [(t.sync, t.skipped) for t in schedule.ticks] == [("b_main", None), ("a_stats", None)]
    counts = [
        {k: v for r in t.summary.entities for k, v in r.counts.items() if v}
        for t in schedule.ticks
        if t.summary is not None
    ]
    assert counts == [{"created": 2}, {"updated": 2}]


def test_a_removed_line_added_again_resumes_with_its_links(tmp_path: Path) -> None:
    bed = lines_bed(tmp_path)
    [first] = bed.put("left", "company", [company(0)])
    bed.put("left", "product", [product(0)])
    assert bed.cli("run", "-q").exit_code == 0
    links = bed.links("company")

    removed = bed.cli("lines", "rm", "customers")
    assert removed.exit_code == 0, removed.output
    assert "[syncs.main.entities.company]" not in bed.config.read_text()
    bed.edit("left", "company", first, city="Torino")
    bed.put("left", "company", [company(1)])
    assert bed.cli("run", "-q").exit_code == 0  # the other line runs; customers are left alone
    assert len(bed.rows("right", "company")) == 1
    assert bed.links("company") == links  # kept

    added = bed.cli("lines", "add", "customers", "--sync", "main", "--entity", "company")
    assert added.exit_code == 0, added.output
    result = bed.cli("run", "--line", "customers", "--json")
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)["runs"]
    assert bed.outcomes(run["run"]) == {"updated": 1, "created": 1}  # no duplicate
    assert sorted((r["name"], r["city"]) for r in bed.rows("right", "company")) == [
        ("Company 0000", "Torino"),
        ("Company 0001", "Milano"),
    ]
