"""The benchmark's machinery (its numbers are reported by `make bench`, never asserted)."""
import sys

from tools.bench.processes import measure_command
from tools.bench.timing import median_seconds

ALLOCATE = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"  # 200 MB, touched


def test_contenders_run_once_per_round_in_shuffled_order_and_get_a_median_each():
    calls = []
    contenders = {name: (lambda name=name: calls.append(name)) for name in "abcd"}
    times = median_seconds(contenders, warmup=1, repeats=20)
    rounds = [calls[i:i + 4] for i in range(0, len(calls), 4)]
    assert len(rounds) == 21 and all(sorted(r) == list("abcd") for r in rounds)
    assert len({tuple(r) for r in rounds[1:]}) > 1, "the order within a round should vary"
    assert set(times) == set("abcd") and all(t >= 0 for t in times.values())


def test_measure_command_reports_exit_code_time_and_the_child_peak_memory():
    result = measure_command([sys.executable, "-c", ALLOCATE])
    assert result["returncode"] == 0 and result["wall_s"] > 0
    assert result["peak_rss_mb"] > 200
    assert measure_command([sys.executable, "-c", "raise SystemExit(3)"])["returncode"] == 3


def test_measure_command_sees_a_process_nobody_waits_for():
    """Like a grading kernel in bubblewrap's PID namespace: its memory never reaches us through wait()."""
    orphan = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', " + repr(ALLOCATE + "; import time; time.sleep(1)") + "]); "
              "time.sleep(2)")
    assert measure_command([sys.executable, "-c", orphan])["peak_rss_mb"] > 200


def test_measure_command_adds_up_processes_that_run_at_once():
    two_at_once = ("import subprocess, sys; "
                   "children = [subprocess.Popen([sys.executable, '-c', " + repr(ALLOCATE + "; import time; time.sleep(1.5)")
                   + "]) for _ in range(2)]; [child.wait() for child in children]")
    result = measure_command([sys.executable, "-c", two_at_once])
    assert 200 < result["peak_rss_mb"] < 350 and result["peak_total_rss_mb"] > 400
