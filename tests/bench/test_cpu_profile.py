"""`bench/run.py --cpu-profile`: async-profiler in a real JVM, and its samples summed by kind of thread."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from bench.context import BenchContext
from bench.cpu_profile import agent_library, agent_option, cpu_by_thread, thread_kind
from bench.run import parse_args
from bench.sizes import sizes_for

BUSY_JAVA = """
public class Busy {
    public static void main(String[] args) {
        long until = System.nanoTime() + 1_500_000_000L, sum = 0;
        while (System.nanoTime() < until) {
            for (int i = 0; i < 100_000; i++) sum += Integer.toString(i).hashCode();
        }
        System.out.println(sum);
    }
}
"""


@pytest.mark.parametrize(("thread", "kind"), [
    ("[C2 CompilerThre tid=17]", "JIT compiler C2"),
    ("[C1 CompilerThre tid=18]", "JIT compiler C1"),
    ("[GC Thread#1 tid=9]", "GC and VM"),
    ("[G1 Conc#0 tid=10]", "GC and VM"),
    ("[Executor task launch worker for task 0.0 in stage 3.0 (TID 7) tid=99]", "Spark tasks"),
    ("[stream execution thread for silver.user_events <- bronze.user_events [id = 5b, runId = 6c] tid=70]",
     "query silver.user_events <- bronze.user_events"),
    ("[Thread-5 tid=40]", "other"),
])
def test_each_thread_is_told_by_its_name(thread, kind):
    assert thread_kind(f"{thread};java/lang/Thread.run") == kind


def test_pythons_calls_are_told_by_py4j_at_the_root_of_the_stack():
    stack = "[Thread-5 tid=40];java/lang/Thread.run;py4j/ClientServerConnection.run;org/apache/spark/sql/Dataset.count"
    assert thread_kind(stack) == "Python's calls into the JVM (py4j)"


def test_samples_are_summed_by_kind_at_10_ms_each(tmp_path):
    profile = tmp_path / "job-1.collapsed"
    profile.write_text("[C2 CompilerThre tid=1];C2Compiler::compile_method 120\n"
                       "[C2 CompilerThre tid=1];PhaseIdealLoop::build_loop_tree 30\n"
                       "[Executor task launch worker for task 0.0 in stage 1.0 (TID 1) tid=2];a/B.c 50\n")
    assert cpu_by_thread(profile) == {"JIT compiler C2": 1.5, "Spark tasks": 0.5}


def test_a_real_jvm_with_the_agent_writes_its_threads_cpu(tmp_path):
    source = tmp_path / "Busy.java"
    source.write_text(BUSY_JAVA)
    option = agent_option(agent_library(), tmp_path / "cpu", "busy", 1)
    subprocess.run([shutil.which("java"), option, str(source)], check=True, capture_output=True, timeout=120)
    [profile] = (tmp_path / "cpu").glob("busy-*.collapsed")
    seconds = cpu_by_thread(profile)
    assert seconds["other"] >= 0.05  # main, compiling Busy.java, then looping (its first second sampled)
    assert seconds["JIT compiler C1"] + seconds["JIT compiler C2"] > 0


def test_every_job_of_a_profiled_run_loads_the_agent(tmp_path):
    args, _, _ = parse_args(["--only", "S7", "--cpu-profile", "25"])
    ctx = BenchContext(sizes_for(True), True, work_dir=tmp_path, cpu_profile_s=args.cpu_profile)
    argv = ctx.job("live-pipeline-restart1", "bench/scenarios/streaming_job.py", ctx.overrides("always_on")).argv
    [option] = [arg for arg in argv if "-agentpath:" in arg]
    assert f"file={ctx.cpu_profiles}/live-pipeline-restart1-%p.collapsed" in option
    assert "timeout=25," in option


@pytest.mark.parametrize("text", ["0", "-3", "soon"])
def test_a_profile_of_no_time_is_refused(text, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--cpu-profile", text])
    assert "expected a number of seconds above 0" in capsys.readouterr().err
