"""Grade a class with several nbgrader processes at once, with progress, a log, and a journal to resume from.

nbgrader grades one submission after another. Here `jobs` `nbgrader autograde --force` processes
run side by side over the same students, and each student is graded by the worker that claims
them first (claims.py): a free worker takes the next student, each in a sandboxed kernel of its
own, as before. Their gradebook transactions take turns (gradebook_lock.py). Every line they
print goes to the log, prefixed with the worker's number; each finished student is printed with
finished/total and an estimate of the time left, and written to a journal. Interrupted (Ctrl-C),
the workers and their kernels stop, the grades already saved stay, and the journal lets the next
run grade the rest.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tools.grading.claims import CLAIMS_VARIABLE
from tools.grading.course import start_nbgrader
from tools.grading.gradebook_lock import LOCK_VARIABLE

STARTED = re.compile(r"Autograding .*[/\\]autograded[/\\](?P<student>[^/\\]+)[/\\]")
FINISHED = re.compile(r"Setting destination file permissions")
FAILED = re.compile(r"error processing assignment '[^']*' for student '(?P<student>[^']+)'")
GIB = 2**30
MEMORY_PER_JOB = 2.5 * GIB  # a kernel with ViT-B/16 (about 1.7 GB) and the grader's own models beside it


def default_jobs():
    """As many workers as cores, but no more than the available memory holds."""
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
    return max(1, min(os.cpu_count() or 1, int(available // MEMORY_PER_JOB)))


def threads_per_kernel(jobs):
    """Each kernel's share of the cores, and no more than OMP_NUM_THREADS where that is set: more threads than
    cores make torch's threads spin waiting for each other, which costs far more CPU than it saves."""
    share = max(1, (os.cpu_count() or 1) // jobs)
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return min(share, int(cap)) if cap.isdigit() and int(cap) > 0 else share


class Journal:
    """The students an interrupted run finished, one per line; gone once a run completes."""

    def __init__(self, path):
        self.path = Path(path)

    def finished(self):
        return set(self.path.read_text().split()) if self.path.exists() else set()

    def add(self, student):
        with open(self.path, "a") as journal:
            journal.write(student + "\n")

    def close(self):
        self.path.unlink(missing_ok=True)


class Progress:
    """finished/total, elapsed time and time left, printed as each student finishes."""

    def __init__(self, total, already=0):
        self.total, self.done, self.begin, self.lock = total, already, time.monotonic(), threading.Lock()
        self.start_done = already

    def finish(self, student, note=""):
        with self.lock:
            self.done += 1
            elapsed = time.monotonic() - self.begin
            graded_now = self.done - self.start_done
            left = elapsed / graded_now * (self.total - self.done)
            print(f"[{self.done}/{self.total}] {student}{note}  (elapsed {_clock(elapsed)}, about {_clock(left)} left)",
                  flush=True)


def _clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def grade(course, assignment, everyone, pending, options, jobs, log_path, journal, progress):
    """Grade the `pending` students (of `everyone` who submitted) with `jobs` workers; return those nbgrader
    could not grade. The workers are told to leave out everyone else (nbgrader's student_id_exclude) and share
    out the pending students by claiming them (claims.py) in a folder of this run's own."""
    if not pending:
        return set()
    failed, reported, log_lock, workers = set(), set(), threading.Lock(), []
    count = min(jobs, len(pending))          # no more workers than students
    threads = threads_per_kernel(count)
    others = ",".join(sorted(set(everyone) - set(pending)))
    with open(log_path, "a", buffering=1) as log:
        def follow(number, process):
            current = None
            for line in process.stdout:
                with log_lock:
                    log.write(f"[worker {number}] {line}")
                if match := STARTED.search(line):
                    current = match["student"]
                elif match := FAILED.search(line):
                    failed.add(match["student"])
                elif FINISHED.search(line) and current:
                    journal.add(current)
                    progress.finish(current)
                    reported.add(current)
                    current = None
            process.wait()

        claims = tempfile.mkdtemp(prefix="xai-claims-")
        environment = {LOCK_VARIABLE: str(log_path.with_name(".gradebook.lock")), CLAIMS_VARIABLE: claims,
                       "OMP_NUM_THREADS": str(threads)}
        try:
            readers = []
            for number in range(1, count + 1):
                workers.append(start_nbgrader(course, "autograde", assignment, "--force", *options,
                                              f"--SandboxedExecute.threads={threads}",
                                              *([f"--CourseDirectory.student_id_exclude={others}"] if others else []),
                                              environment=environment, new_session=True))
                readers.append(threading.Thread(target=follow, args=(number, workers[-1]), daemon=True))
                readers[-1].start()
            for reader in readers:
                while reader.is_alive():
                    reader.join(0.2)
        except KeyboardInterrupt:
            for process in workers:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in workers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            shutil.rmtree(claims, ignore_errors=True)
    for student in pending:  # nbgrader gave up on these (its error lines name them), or skipped them
        if student not in reported:
            progress.finish(student, "  (not graded)")
    return failed
