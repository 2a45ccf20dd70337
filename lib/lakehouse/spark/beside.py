"""Spark work run on a thread beside the caller's, e.g. a batch's write to one table while the
next is planned: one driver plans and commits one while the executors run the other's tasks."""
from __future__ import annotations

from typing import Callable, Generic, Optional, TypeVar

from pyspark.sql import DataFrame, SparkSession
from pyspark.util import InheritableThread

T = TypeVar("T")


class Beside(Generic[T]):
    """Starts `work()` at once on a PySpark InheritableThread: its Spark jobs carry the caller's
    local properties (the streaming query's job group, so stopping the query cancels them too, and
    its job tags).

    Session options are not thread-local: work that sets them (every Delta write with a transaction
    id does, lakehouse.sinks.delta.commit_options) must run on its own session (`in_own_session`).
    """

    def __init__(self, work: Callable[[], T], name: str):
        self._value: Optional[T] = None
        self._error: Optional[BaseException] = None
        self._thread = InheritableThread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def join(self) -> Optional[BaseException]:
        """Waits for the work to end: its exception, None if it succeeded."""
        self._thread.join()
        return self._error

    def result(self) -> T:
        """The work's value once it ended; its exception raised again if it failed."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


def in_own_session(df: DataFrame) -> DataFrame:
    """`df`'s plan on a clone of its session (same options, functions and catalog at this moment):
    options set on one session for a write are not seen by the other's writes. Call it on the
    caller's thread, before the caller's next write sets any."""
    spark = df.sparkSession
    clone = SparkSession(spark.sparkContext, spark._jsparkSession.cloneSession())
    dataset = spark.sparkContext._jvm.org.apache.spark.sql.Dataset
    return DataFrame(dataset.ofRows(clone._jsparkSession, df._jdf.queryExecution().logical()), clone)
