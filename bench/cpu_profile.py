"""`--cpu-profile SECONDS`: where each job's JVM spent its CPU in its first SECONDS, thread by thread.

async-profiler (`make jars` fetches it from Maven Central into .local/jars/profiler) is loaded into every
job's JVM as an agent. It samples the CPU time of every thread (`itimer`, every 10 ms) from the JVM's
start, and after SECONDS writes the samples, as collapsed stacks under their thread's name, to
<logs>/cpu/<job>-<pid>.collapsed. At the end of the run `print_cpu_summaries` sums each file by kind
of thread: the JIT compilers (C2, C1), GC, Spark's tasks, each streaming query's own thread, Python's
calls into the JVM (py4j), and the rest. A restarted job's file shows how much of the restart's CPU
went to compiling the code it runs. Diagnostic only, like `--event-logs`: sampling costs a little CPU,
so the figures of a profiled run are not compared with anything.
"""
from __future__ import annotations

import platform
import re
import zipfile
from collections import Counter
from pathlib import Path

from bench.harness import ROOT

PROFILER_JARS = ROOT / ".local" / "jars" / "profiler"
INTERVAL_MS = 10
STREAM_THREAD = re.compile(r"stream execution thread for (.+?) \[id = ")
PY4J_CALLS = ("py4j/ClientServerConnection.run", "py4j/GatewayConnection.run")


class ProfilerMissing(RuntimeError):
    pass


def agent_library(jars: Path = PROFILER_JARS) -> Path:
    """The agent's shared library, unpacked once from the async-profiler jar."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        raise ProfilerMissing(f"--cpu-profile: async-profiler's agent runs on Linux x86_64 or aarch64, "
                              f"not {platform.system()} {platform.machine()}")
    arch = "linux-x64" if platform.machine() == "x86_64" else "linux-arm64"
    library = jars / arch / "libasyncProfiler.so"
    if library.exists():
        return library
    found = sorted(jars.glob("async-profiler-*.jar"))
    if not found:
        raise ProfilerMissing(f"--cpu-profile: no async-profiler jar in {jars}; run `make jars`")
    with zipfile.ZipFile(found[-1]) as jar:
        jar.extract(f"{arch}/libasyncProfiler.so", jars)
    return library


def agent_option(library: Path, folder: Path, job: str, seconds: float) -> str:
    """The java option that samples a JVM's first `seconds` into `folder`/<job>-<pid>.collapsed."""
    folder.mkdir(parents=True, exist_ok=True)
    return (f"-agentpath:{library}=start,event=itimer,interval={INTERVAL_MS}ms,threads,collapsed,"
            f"timeout={max(1, round(seconds))},file={folder}/{job}-%p.collapsed")


def thread_kind(stack: str) -> str:
    """The kind of thread a collapsed stack (its thread's name first) ran on."""
    thread = stack.split(";", 1)[0]
    if thread.startswith("[C2 CompilerThre"):
        return "JIT compiler C2"
    if thread.startswith("[C1 CompilerThre"):
        return "JIT compiler C1"
    if thread.startswith(("[GC Thread", "[G1 ", "[VM Thread")):
        return "GC and VM"
    if thread.startswith("[Executor task launch worker"):
        return "Spark tasks"
    query = STREAM_THREAD.search(thread)
    if query:
        return f"query {query.group(1)}"
    if any(call in stack for call in PY4J_CALLS):
        return "Python's calls into the JVM (py4j)"
    return "other"


def cpu_by_thread(profile: Path) -> Counter:
    """CPU seconds by thread kind in one collapsed profile."""
    samples: Counter = Counter()
    with open(profile) as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if stack and count.isdigit():
                samples[thread_kind(stack)] += int(count)
    return Counter({kind: count * INTERVAL_MS / 1000 for kind, count in samples.items()})


def print_cpu_summaries(folder: Path) -> None:
    for profile in sorted(folder.glob("*.collapsed"), key=lambda path: path.stat().st_mtime):
        seconds = cpu_by_thread(profile)
        total = sum(seconds.values())
        print(f"\n{profile.stem}: {total:.1f} s of CPU sampled, by thread")
        for kind, value in seconds.most_common():
            print(f"  {value:7.1f}s  {100 * value / total:5.1f}%  {kind}")
