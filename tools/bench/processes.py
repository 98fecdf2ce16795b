"""Wall time and peak memory of a command and every process it starts.

Peak memory is the largest resident set (RSS) of any single process of the command's
tree: the high-water mark (VmHWM) of each descendant, read from /proc every 50 ms while
the command runs, and the kernel's own figure for the children that a small wrapper
process waited for (RUSAGE_CHILDREN of the wrapper, so earlier commands do not count). Sampling is needed because grading kernels run in a bubblewrap PID namespace,
whose processes never report to us through wait(); without /proc (macOS) only the
RUSAGE_CHILDREN figure is used.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROC = Path("/proc")
SAMPLE_SECONDS = 0.05
_WRAPPER = """
import json, resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(json.dumps({"returncode": code, "kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _parents():
    """{pid: parent pid} of every process visible in /proc."""
    parents = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _descendants(root):
    parents, tree, found = _parents(), {root}, True
    while found:
        found = {pid for pid, parent in parents.items() if parent in tree and pid not in tree}
        tree |= found
    return tree


def _memory_kib(pid, field):
    """A memory figure of a process from /proc/<pid>/status (VmHWM: its peak; VmRSS: now) in KiB, 0 if it has ended."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure_command(command, cwd=None, env=None):
    """Run `command` (its output discarded); return {"returncode", "wall_s", "peak_rss_mb", "peak_total_rss_mb"}:
    the largest process, and the largest sum over the processes running at once (several grading kernels)."""
    start = time.perf_counter()
    wrapper = subprocess.Popen([sys.executable, "-c", _WRAPPER, *command], cwd=cwd, env=env or os.environ.copy(),
                               stdout=subprocess.PIPE, text=True)
    peak_kib = total_kib = 0
    while wrapper.poll() is None:
        if PROC.is_dir():
            tree = _descendants(wrapper.pid) - {wrapper.pid}
            peak_kib = max([peak_kib, *(_memory_kib(pid, "VmHWM:") for pid in tree)])
            total_kib = max(total_kib, sum(_memory_kib(pid, "VmRSS:") for pid in tree))
        time.sleep(SAMPLE_SECONDS)
    wall = time.perf_counter() - start
    report = json.loads(wrapper.stdout.read().strip().splitlines()[-1])
    peak_kib = max(peak_kib, report["kib"])
    return {"returncode": report["returncode"], "wall_s": wall, "peak_rss_mb": peak_kib / 1024,
            "peak_total_rss_mb": max(total_kib, peak_kib) / 1024}
