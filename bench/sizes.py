"""How big each scenario is: the issue's full sizes, the tiny ones of `--quick`, and per-flag overrides."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from lakehouse.spark.session import SHORT_LIVED_JVM_OPTIONS


@dataclass(frozen=True)
class Sizes:
    """Every size and tuning value a run uses; written into the results JSON."""

    # S1, S2, B1, B2: the pre-loaded topic.
    events: int = 5_000_000
    partitions: int = 4                   # Kafka partitions of the benchmark topics (B1: one process each)
    preload_processes: int = 2
    # Our jobs' settings for a catch-up (see README "Performance").
    bronze_max_offsets: int = 1_000_000   # maxOffsetsPerTrigger: records per bronze micro-batch
    silver_max_files: int = 4             # bronze files per silver micro-batch (one per partition: a bronze batch)
    # Baselines' batch sizes (what a team would pick for a catch-up).
    b1_batch_records: int = 250_000       # records per Delta append, per partition process
    b2_chunk_rows: int = 1_000_000        # bronze rows per silver MERGE
    # S10 per-row cost, part by part: the first records of the backlog, each part's best of its runs.
    per_row_rows: int = 1_000_000
    per_row_repeats: int = 3
    # S3 freshness (then S7 and S5 on the same always-on jobs).
    freshness_rates: tuple[float, ...] = (5_000.0,)   # fixed rates; 20% of S1's rate is added
    max_rate_share: float = 0.2
    default_max_rate: float = 100_000.0   # stands for S1's rate when S1 is not in the run
    freshness_seconds: float = 180.0
    warmup_seconds: float = 15.0          # at the idle rate before the first phase; not measured
    idle_rate: float = 1_000.0            # between phases and around the restart
    trigger: str = "1 second"
    stream_max_offsets: int = 200_000     # maxOffsetsPerTrigger of the always-on bronze job
    freshness_one_driver: bool = False    # S3 (and S7, S5) on kafka_to_silver instead of the two jobs
    # S4 MERGE cost.
    merge_targets: tuple[int, ...] = (1_000_000, 5_000_000)
    merge_batches: tuple[int, ...] = (10_000, 100_000)
    merge_repeats: int = 3
    merge_warmup: bool = True             # one untimed batch per variant first (JIT, caches)
    merge_days: int = 90                  # transaction_date partitions of the target
    # S9 metrics and lineage overhead: blocks of small silver micro-batches, off, on and every in turn.
    overhead_rows: int = 50               # records per micro-batch
    overhead_batches: int = 4             # micro-batches per block
    overhead_rounds: int = 3              # rounds of blocks (off, on, every)
    overhead_warmup: int = 2              # untimed micro-batches first
    # S6 Postgres extract.
    pg_rows: int = 5_000_000
    pg_users: int = 100_000
    pg_update_share: float = 0.1
    pg_partitions: int = 2                # partitioned JDBC read: num_partitions
    pg_fetch_size: int = 50_000
    # Extra driver JVM options of every job. Quick runs use C1 only: about half the CPU of a
    # short-lived JVM (their figures are not for comparison anyway).
    jvm_options: str = ""
    class_data_sharing: bool = True       # local drivers map `make setup`'s archive (lakehouse.spark.cds)
    # Time limits, seconds.
    job_timeout_s: float = 3600.0
    restart_timeout_s: float = 180.0
    # S8 small micro-batch fixed cost.
    fixed_cost_contracts: tuple[str, ...] = ("user_events", "transaction_events", "system_metrics")
    fixed_cost_rows: int = 10             # records per micro-batch (one refused by the contract)
    fixed_cost_rounds: int = 10           # measured micro-batches per contract
    # Rounds first, not kept: the driver's JIT reaches its steady batch after 30-40 silver batches (README,
    # S8 round 14); an always-on job at a 1 s trigger is past them in its first minute.
    fixed_cost_warmup: int = 10
    # F8 Spark's floor under S8's steps: rounds of a small transaction batch's steps in one driver.
    floor_step_rounds: int = 10
    floor_step_warmup: int = 3


QUICK = Sizes(
    events=20_000,
    preload_processes=1,
    bronze_max_offsets=10_000,
    b1_batch_records=5_000,
    b2_chunk_rows=10_000,
    per_row_rows=20_000,
    per_row_repeats=1,
    freshness_rates=(),                   # only the share of the maximum
    default_max_rate=2_000.0,
    freshness_seconds=5.0,
    warmup_seconds=2.0,
    idle_rate=100.0,
    stream_max_offsets=10_000,
    merge_targets=(20_000,),
    merge_batches=(1_000,),
    merge_repeats=1,
    merge_warmup=False,
    merge_days=10,
    overhead_rows=10,
    overhead_batches=1,
    overhead_rounds=1,
    overhead_warmup=0,
    pg_rows=20_000,
    pg_users=1_000,
    pg_fetch_size=10_000,
    jvm_options=SHORT_LIVED_JVM_OPTIONS,
    job_timeout_s=300.0,
    restart_timeout_s=120.0,
    fixed_cost_contracts=("user_events",),   # one batch, cold: the suite's time
    fixed_cost_rounds=1,
    fixed_cost_warmup=0,
    floor_step_rounds=1,
    floor_step_warmup=0,
)


def sizes_for(quick: bool, overrides: Optional[dict] = None) -> Sizes:
    """The full or quick sizes with `overrides` (field name -> value) applied."""
    base = QUICK if quick else Sizes()
    return dataclasses.replace(base, **(overrides or {}))


def parse_override(text: str) -> tuple[str, object]:
    """`name=value` for a Sizes field; tuples are comma-separated, e.g. merge_targets=100000,500000."""
    name, _, value = text.partition("=")
    fields = {f.name: f for f in dataclasses.fields(Sizes)}
    if name not in fields or not value:
        raise ValueError(f"--size {text!r}: expected name=value with a name among {', '.join(fields)}")
    default = getattr(Sizes(), name)
    if isinstance(default, tuple):
        kind = type(default[0])
        return name, tuple(kind(v) for v in value.split(","))
    if isinstance(default, bool):
        return name, value.lower() in ("1", "true", "yes")
    return name, type(default)(value)
