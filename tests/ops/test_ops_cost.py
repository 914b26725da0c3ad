"""The cost arithmetic against hand-computed cases (the hand computation is in the comments), the price
file's validation, and the ``cost`` command's output."""

from __future__ import annotations

import copy
import io
import shutil
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from ops import cost
from ops.cli import main
from ops.prices import load_prices
from unilake_config import ConfigError

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
US_EAST_1 = {"kpu_hour": D("0.11"), "storage_gb_month": D("0.10")}
GLUE = {"free_requests": 1_000_000, "per_million": D("1.00")}


# --- Managed Flink ---------------------------------------------------------------------------------------


def test_smallest_always_on_application() -> None:
    # (1 KPU + 1 orchestration KPU) x 730 h x $0.11 = 2 x 80.30 = $160.60
    # running storage: 1 KPU x 50 GB x $0.10 = $5.00; total $165.60 (NOTES: "about $165")
    result = cost.flink_cost(kpus=1, **US_EAST_1)
    assert result.billed_kpus == 2
    assert result.compute == D("160.60")
    assert result.storage == D("5.00")
    assert cost.cents(result.total) == D("165.60")


def test_prod_application_pays_one_orchestration_kpu_not_one_per_kpu() -> None:
    # prod: parallelism 4, 1 per KPU -> 4 KPUs; (4 + 1) x 730 x 0.11 = 5 x 80.30 = $401.50
    # storage 4 x 50 GB = 200 GB x $0.10 = $20.00
    result = cost.flink_cost(kpus=4, **US_EAST_1)
    assert result.billed_kpus == 5
    assert result.compute == D("401.50")
    assert result.storage_gb == 200
    assert result.storage == D("20.00")


def test_an_application_needs_a_kpu() -> None:
    with pytest.raises(ValueError, match="at least one KPU"):
        cost.flink_cost(kpus=0, **US_EAST_1)


# --- Glue: polling and the free tier ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "requests"),
    [
        (3, 864_000),  # 2,592,000 s / 3 s
        (10, 259_200),  # 2,592,000 / 10
        (30, 86_400),  # 2,592,000 / 30
        (300, 8_640),  # 2,592,000 / 300
    ],
)
def test_one_get_table_per_poll(interval: int, requests: int) -> None:
    assert cost.polls_per_month(interval) == requests


def test_every_reader_polls_on_its_own() -> None:
    # 2 readers at 3 s: 2 x 864,000 = 1,728,000
    assert cost.polls_per_month(3, readers=2) == 1_728_000


@pytest.mark.parametrize(
    ("requests", "dollars"),
    [
        (0, D("0")),
        (999_999, D("0")),
        (1_000_000, D("0")),  # exactly the free tier
        (1_000_001, D("0.000001")),  # one request over: $1 / 1,000,000
        (2_000_000, D("1")),  # 1M over
        (864_000_000, D("863")),  # 1,000 tables at 3 s: 864M - 1M free = 863M x $1/M
    ],
)
def test_glue_free_tier_boundary(requests: int, dollars: Decimal) -> None:
    assert cost.glue_requests_cost(D(requests), **GLUE) == dollars


def test_polling_tradeoff_table() -> None:
    rows = cost.polling_tradeoff((3, 30, 300), (1, 1000), commit_interval=20, readers=1, **GLUE)
    by_interval = {row.monitor_interval: row for row in rows}
    # 3 s: 1 table 864,000 < 1M free -> $0; 1,000 tables 864,000,000 - 1,000,000 = 863,000,000 -> $863.00
    assert by_interval[3].requests_per_table == 864_000
    assert dict(by_interval[3].cost_by_table_count) == {1: D("0"), 1000: D("863")}
    # 30 s: 1,000 x 86,400 = 86,400,000 - 1,000,000 = 85,400,000 -> $85.40
    assert dict(by_interval[30].cost_by_table_count) == {1: D("0"), 1000: D("85.4")}
    # 5 min: 1,000 x 8,640 = 8,640,000 - 1,000,000 = 7,640,000 -> $7.64
    assert dict(by_interval[300].cost_by_table_count) == {1: D("0"), 1000: D("7.64")}
    # A writer committing every 20 s: polling every 3 s is faster than the data can change.
    assert [row.faster_than_commits for row in rows] == [True, False, False]
    # Worst case from commit to the reader seeing it: 20 + 3 = 23 s; 20 + 300 = 320 s.
    assert [row.worst_case_staleness for row in rows] == [23, 50, 320]


def test_the_forty_cent_myth_is_not_reproduced() -> None:
    """The shared figure: 3 s polling ~ $0.04/month per table in S3 LISTs. The mechanism is a Glue GetTable,
    and even as S3 LISTs 864,000 x $0.005/1,000 = $4.32, not $0.04."""
    polls = cost.polls_per_month(3)
    as_s3_lists = cost.s3_requests_cost(gets=D(0), puts=polls, get_per_1000=D(0), put_per_1000=D("0.005"))
    assert cost.cents(as_s3_lists) == D("4.32")
    # And the model itself charges no S3 request for a poll: S3 requests do not depend on the interval.
    kwargs = {
        "name": "t",
        "role": "source",
        "commit_interval": 60,
        "readers": 1,
        "assumptions": cost.RequestAssumptions(),
        "get_per_1000": D("0.0004"),
        "put_per_1000": D("0.005"),
        "storage": cost.StorageCost(by_tier={}, monitoring=D(0)),
    }
    fast = cost.table_cost(monitor_interval=3, **kwargs)  # type: ignore[arg-type]
    slow = cost.table_cost(monitor_interval=300, **kwargs)  # type: ignore[arg-type]
    assert (fast.s3_gets, fast.s3_puts) == (slow.s3_gets, slow.s3_puts)
    assert fast.glue_requests - slow.glue_requests == 864_000 - 8_640


# --- S3 requests and storage -------------------------------------------------------------------------------


def test_source_table_requests_by_hand() -> None:
    # Writer commits every 60 s: 2,592,000 / 60 = 43,200 commits/month.
    # Glue: 43,200 x 2 (GetTable + UpdateTable) + polls 864,000 (3 s) = 86,400 + 864,000 = 950,400
    # PUTs: 43,200 x (1 data file + manifest + manifest list + metadata.json) = 43,200 x 4 = 172,800
    # GETs: commit 43,200 x 2 = 86,400; reading each snapshot 43,200 x (3 metadata + 1 file x 2) = 216,000
    #       -> 302,400
    # $: 302,400 x 0.0004 / 1,000 = 0.12096; 172,800 x 0.005 / 1,000 = 0.864; total 0.98496
    table = cost.table_cost(
        name="transactions",
        role="source",
        commit_interval=60,
        monitor_interval=3,
        readers=1,
        assumptions=cost.RequestAssumptions(),
        get_per_1000=D("0.0004"),
        put_per_1000=D("0.005"),
        storage=cost.StorageCost(by_tier={}, monitoring=D(0)),
    )
    assert table.glue_requests == 950_400
    assert table.s3_puts == 172_800
    assert table.s3_gets == 302_400
    assert table.s3_requests == D("0.98496")
    assert table.polls_faster_than_commits


def test_sink_table_requests_by_hand() -> None:
    # Checkpoint 20 s: 129,600 commits; 4 data files each (parallelism 4).
    # Glue 129,600 x 2 = 259,200; PUTs 129,600 x (4 + 3) = 907,200; GETs 129,600 x 2 = 259,200
    # $: 259,200 x 0.0004/1,000 = 0.10368 + 907,200 x 0.005/1,000 = 4.536 -> 4.63968
    table = cost.table_cost(
        name="sales_per_minute",
        role="sink",
        commit_interval=20,
        monitor_interval=None,
        readers=1,
        assumptions=cost.RequestAssumptions(data_files_per_commit=4),
        get_per_1000=D("0.0004"),
        put_per_1000=D("0.005"),
        storage=cost.StorageCost(by_tier={}, monitoring=D(0)),
    )
    assert (table.glue_requests, table.s3_puts, table.s3_gets) == (259_200, 907_200, 259_200)
    assert table.s3_requests == D("4.63968")
    assert table.polls == 0


def test_intelligent_tiering_by_hand() -> None:
    # 100 GB: 30 % frequent 30 x 0.023 = 0.69; 30 % infrequent 30 x 0.0125 = 0.375;
    # 40 % archive instant 40 x 0.004 = 0.16; monitoring 10,000 objects x 0.0025 / 1,000 = 0.025
    # total 1.25
    shares = cost.parse_tier_mix("frequent=30,infrequent=30,archive_instant=40")
    inputs = cost.StorageInputs(gb=D(100), objects=10_000, tier_share=shares)
    prices = {
        "frequent": D("0.023"),
        "infrequent": D("0.0125"),
        "archive_instant": D("0.004"),
        "archive_access": D("0.0036"),
        "deep_archive": D("0.00099"),
    }
    result = cost.storage_cost(inputs, tier_gb_month=prices, monitoring_per_1000=D("0.0025"))
    assert dict(result.by_tier) == {"frequent": D("0.69"), "infrequent": D("0.375"), "archive_instant": D("0.16")}
    assert result.monitoring == D("0.025")
    assert result.total == D("1.25")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frequent=50,infrequent=40", "add up to 100"),
        ("hot=100", "TIER=PERCENT"),
        ("frequent=abc", "not a number"),
        ("frequent=-10,infrequent=110", "percentage from 0 to 100"),
    ],
)
def test_tier_mix_is_validated(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cost.parse_tier_mix(text)


def test_free_tier_applies_once_per_environment_not_per_table() -> None:
    # Two tables of 600,000 Glue requests each: each alone is under 1M, together 1.2M -> 200,000 x $1/M = $0.20
    def table(name: str) -> cost.TableCost:
        # glue_requests is given directly: only the environment-level sum is under test here.
        return cost.TableCost(
            name=name,
            role="sink",
            commit_interval=9,
            monitor_interval=None,
            readers=1,
            glue_requests=D(600_000),
            s3_gets=D(0),
            s3_puts=D(0),
            s3_requests=D(0),
            storage=cost.StorageCost(by_tier={}, monitoring=D(0)),
        )

    env = cost.EnvironmentCost(
        flink=cost.flink_cost(kpus=1, **US_EAST_1),
        tables=(table("a"), table("b")),
        glue_free_requests=1_000_000,
        glue_per_million=D("1.00"),
    )
    assert env.glue_requests == 1_200_000
    assert env.glue == D("0.2")
    # total = 165.60 + 0.20 = 165.80
    assert cost.cents(env.total) == D("165.80")


def test_money_prints_cents() -> None:
    assert cost.money(D("863")) == "$863.00"
    assert cost.money(D("0.98496")) == "$0.98"
    assert cost.money(D("1234.005")) == "$1,234.01"


# --- The price file ----------------------------------------------------------------------------------


REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_repository_price_file_is_valid_for_every_environment_region() -> None:
    book, path = load_prices(REPO_CONFIG)
    for region in ("us-east-1", "eu-west-1"):
        prices = book.for_region(region, path)
        assert prices.glue.free_requests_per_month == 1_000_000


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    return tmp_path / "config"


def _break(config_dir: Path, old: str, new: str) -> None:
    path = config_dir / "prices.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kpu_hour: 0.11", "kpu_hour: -0.11", r"regions\.us-east-1\.managed_flink\.kpu_hour: Input should be greater"),
        ("kpu_hour: 0.11", "kpu_hours: 0.11", r"regions\.us-east-1\.managed_flink\.kpu_hours: unknown setting"),
        ('as_of: "2026-11-25"', "as_of: yesterday", r"regions\.us-east-1\.as_of: String should match"),
        ("unverified: []", "unverified: [glue.price]", r"'glue\.price' is not a price field"),
    ],
)
def test_a_broken_price_file_names_file_field_and_reason(config_copy: Path, old: str, new: str, message: str) -> None:
    _break(config_copy, old, new)
    with pytest.raises(ConfigError, match=rf"prices\.yaml: .*{message}"):
        load_prices(config_copy)


def test_a_region_without_prices_is_a_config_error(config_copy: Path) -> None:
    book, path = load_prices(config_copy)
    with pytest.raises(ConfigError, match=r"prices\.yaml: regions: no prices for 'ap-south-1'"):
        book.for_region("ap-south-1", path)


def test_cost_cli_with_a_broken_price_file_exits_non_zero_with_one_line(config_copy: Path) -> None:
    _break(config_copy, "kpu_hour: 0.11", "kpu_hour: lots")
    out, err = io.StringIO(), io.StringIO()

    code = main(["--config-dir", str(config_copy), "cost", "--env", "prod"], out=out, err=err)

    assert code == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith(f"error: {config_copy / 'prices.yaml'}: regions.us-east-1.managed_flink.kpu_hour")
    assert err.getvalue().count("\n") == 1


# --- The cost command ------------------------------------------------------------------------------------


def _cost(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert main(["cost", *argv], out=out, err=err) == 0, err.getvalue()
    return out.getvalue()


def test_cost_output_for_prod_shows_the_interval_table_and_assumptions() -> None:
    text = _cost("--env", "prod")
    assert "=== prod: us-east-1, account 333333333333" in text
    # (4 + 1) x 730 x 0.11 = 401.50; 200 GB x 0.10 = 20.00
    assert "+ 1 orchestration) x 730 h x $0.11/KPU-hour = $401.50" in text
    assert "x $0.10/GB-month = $20.00" in text
    tradeoff = text.split("Monitor-interval trade-off", 1)[1].splitlines()
    assert tradeoff[1].split()[:4] == ["interval", "s", "GetTable/table", "1"]
    rows = {line.split()[0]: line.split() for line in tradeoff[2:5]}
    assert rows["3"][1:4] == ["864,000", "$0.00", "$863.00"]
    assert rows["30"][1:4] == ["86,400", "$0.00", "$85.40"]
    assert rows["300"][1:4] == ["8,640", "$0.00", "$7.64"]
    # prod checkpoints every 20 s: 3 s polling buys no freshness.
    assert "faster than commits" in tradeoff[2]
    assert "faster than commits" not in tradeoff[3]
    assert "Assumptions" in text
    assert "no S3 LIST" in text


def test_cost_intervals_and_table_counts_are_configurable() -> None:
    text = _cost("--env", "dev", "--intervals", "1s,1m", "--table-counts", "10,2000")
    tradeoff = text.split("Monitor-interval trade-off", 1)[1].splitlines()
    assert "10 tables" in tradeoff[1]
    assert "2,000 tables" in tradeoff[1]
    # 1 s: 2,592,000/table; 10 tables 25,920,000 - 1M = 24,920,000 -> $24.92;
    # 2,000 tables 5,184,000,000 - 1M = 5,183,000,000 -> $5,183.00
    assert tradeoff[2].split()[:4] == ["1", "2,592,000", "$24.92", "$5,183.00"]
    # 1 min: 43,200/table; 10 tables 432,000 -> $0.00; 2,000 tables 86,400,000 - 1M -> $85.40
    assert tradeoff[3].split()[:4] == ["60", "43,200", "$0.00", "$85.40"]


def test_cost_without_env_covers_every_environment() -> None:
    text = _cost()
    for name in ("dev", "prod", "staging"):
        assert f"=== {name}: " in text
    assert text.count("Monitor-interval trade-off") == 3


def test_cost_rejects_a_bad_interval() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cost", "--intervals", "3 parsecs"], out=io.StringIO(), err=io.StringIO())
    assert exit_info.value.code == 2


def test_every_interval_column_has_one_unit() -> None:
    text = _cost("--env", "prod", "--intervals", "33s,1m,330s")
    tradeoff = text.split("Monitor-interval trade-off", 1)[1].splitlines()
    assert "interval s" in tradeoff[1]
    assert "freshness s" in tradeoff[1]
    assert [line.split()[0] for line in tradeoff[2:5]] == ["33", "60", "330"]
    assert [line.split()[4] for line in tradeoff[2:5]] == ["53", "80", "350"]  # commit 20 s + interval
    tables = text.split("Tables (requests per month; intervals in seconds)", 1)[1].splitlines()
    assert tables[1].split()[2:6] == ["commit", "s", "monitor", "s"]
    assert tables[2].split()[2:4] == ["20", "10"]


def test_the_printed_parts_add_up_to_the_printed_totals() -> None:
    text = _cost("--env", "prod")
    storage = next(line for line in text.splitlines() if line.startswith("S3 Intelligent-Tiering per table:"))
    # every dollar amount but the unit price ($0.0025/1,000): the four parts, then the per-table figure
    amounts = [Decimal(token.strip("$,")) for token in storage.split() if token.startswith("$") and "/" not in token]
    *parts, per_table = amounts
    assert len(parts) == 4
    assert sum(parts) == per_table == Decimal("1.25")
    total_line, parts_line = text.split("TOTAL prod: ", 1)[1].splitlines()[:2]
    total = Decimal(total_line.split()[0].strip("$").replace(",", ""))
    summed = sum(Decimal(t.strip("$").replace(",", "")) for t in parts_line.split() if t.startswith("$"))
    assert summed == total


def test_a_sink_no_job_writes_is_charged_no_commits(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir)
    registry = config_dir / "tables.yaml"
    data = yaml.safe_load(registry.read_text())
    extra = copy.deepcopy(next(t for t in data["tables"] if t["name"] == "sales_per_minute"))
    extra["name"] = "sales_archive"
    data["tables"].append(extra)
    registry.write_text(yaml.safe_dump(data, sort_keys=False))
    out, err = io.StringIO(), io.StringIO()
    assert main(["--config-dir", str(config_dir), "cost", "--env", "prod"], out=out, err=err) == 0, err.getvalue()
    row = next(line for line in out.getvalue().splitlines() if line.strip().startswith("sales_archive"))
    assert row.split()[1:9] == ["sink", "-", "**", "-", "0", "0", "0", "0"]
    assert row.split()[9] == "$0.00"
    assert "** no job writes this sink" in out.getvalue()
    written = next(line for line in out.getvalue().splitlines() if line.strip().startswith("sales_per_minute"))
    assert written.split()[2] == "20"


def test_an_unpriced_region_says_how_to_add_it(config_copy: Path) -> None:
    book, path = load_prices(config_copy)
    with pytest.raises(ConfigError) as error:
        book.for_region("us-west-2", path)
    message = str(error.value)
    assert message.startswith(f"{path}: regions: no prices for 'us-west-2' (known: eu-west-1, us-east-1). ")
    assert "copy the us-east-1 block under `regions:` as `us-west-2:`" in message
    assert "https://aws.amazon.com/managed-service-apache-flink/pricing/" in message


def test_the_prices_line_names_real_pages() -> None:
    line = _cost("--env", "prod").splitlines()[1]
    assert line.startswith("Prices: config/prices.yaml [us-east-1], as of 2026-11-25: ")
    assert "https://aws.amazon.com/s3/pricing/" in line
    assert "above" not in line


def test_chart_on_request(tmp_path: Path) -> None:
    chart = tmp_path / "tradeoff.svg"
    out = _cost("--env", "prod", "--intervals", "3s,30s,5m", "--table-counts", "1,100,1000", "--chart", str(chart))
    assert out.endswith(f"chart: {chart}\n")
    svg = ElementTree.parse(chart).getroot()  # noqa: S314 - the file this test just wrote
    namespace = "{http://www.w3.org/2000/svg}"
    lines = svg.findall(f"{namespace}polyline")
    assert len(lines) == 3  # one per table count
    assert all(len(line.get("points", "").split()) == 3 for line in lines)  # one point per interval
    texts = [text.text for text in svg.iter(f"{namespace}text")]
    assert {"1 table", "100 tables", "1,000 tables"} <= set(texts)
    assert {"3", "30", "300", "23", "50", "320"} <= set(texts)  # intervals and their freshness


def test_chart_for_several_environments_and_not_as_png(tmp_path: Path) -> None:
    out = _cost("--chart", str(tmp_path / "c.svg"))
    for name in ("dev", "prod", "staging"):
        assert (tmp_path / f"c-{name}.svg").is_file()
        assert f"chart: {tmp_path / f'c-{name}.svg'}" in out
    err = io.StringIO()
    assert main(["cost", "--chart", str(tmp_path / "c.png")], out=io.StringIO(), err=err) == 1
    expected = "the chart is SVG, name the file *.svg (PNG would need matplotlib)"
    assert err.getvalue() == f"error: --chart {tmp_path / 'c.png'}: {expected}\n"
