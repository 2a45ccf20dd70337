"""Data-loss check before a bronze query starts.

Kafka deletes records by retention (or delete-records) whether anyone read them or not. If a job
is stopped longer than the retention, the offsets its checkpoint needs are gone. Spark, with
`failOnDataLoss`, fails somewhere inside the next micro-batch; this check fails before starting,
naming the topic, the partitions and the exact offset ranges that were lost.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lakehouse.kafka.offsets import PartitionRange


class DataLossError(RuntimeError):
    """Records the job has not read yet are no longer in Kafka (or the topic is not the one it read)."""


@dataclass(frozen=True)
class LostRange:
    partition: int
    first: int  # inclusive
    last: int   # inclusive

    def describe(self) -> str:
        count = self.last - self.first + 1
        return f"partition {self.partition} offsets {self.first}..{self.last} ({count} record{'s' * (count != 1)})"


def lost_ranges(needed: Mapping[int, int], available: Mapping[int, PartitionRange]) -> list[LostRange]:
    """Ranges the reader needs (from `needed[p]` on) that Kafka no longer holds."""
    return [
        LostRange(partition, needed[partition], available[partition].earliest - 1)
        for partition in sorted(needed)
        if partition in available and needed[partition] < available[partition].earliest
    ]


def check_checkpoint_offsets(
    topic: str, checkpoint: str, needed: Mapping[int, int], available: Mapping[int, PartitionRange]
) -> None:
    """Raises DataLossError unless Kafka still holds everything from `needed` on.

    Partitions added since the checkpoint's last batch are read from offset 0, so records already
    deleted from them count as lost too (Spark treats them the same way).
    """
    gone = sorted(set(needed) - set(available))
    if gone:
        raise DataLossError(
            f"Kafka topic {topic} has no partition(s) {', '.join(map(str, gone))} that checkpoint {checkpoint} "
            "has read: was the topic deleted and re-created? Then run with --accept-recreated-topic."
        )
    ahead = [p for p in sorted(needed) if needed[p] > available[p].latest]
    if ahead:
        detail = ", ".join(f"partition {p} at {needed[p]} > end {available[p].latest}" for p in ahead)
        raise DataLossError(
            f"checkpoint {checkpoint} is ahead of Kafka topic {topic} ({detail}): was the topic deleted and "
            "re-created? Then run with --accept-recreated-topic."
        )
    expected = {p: needed.get(p, 0) for p in available}
    lost = lost_ranges(expected, available)
    if lost:
        raise DataLossError(
            f"Kafka topic {topic} no longer holds records checkpoint {checkpoint} has not read yet: "
            + "; ".join(r.describe() for r in lost)
            + ". They were deleted (retention or delete-records) before the job read them. Refusing to start. "
            "To accept the loss, move the checkpoint aside and start with --starting-offsets earliest: "
            "bronze then continues from the earliest offsets Kafka still holds."
        )
