"""Grade a class with several nbgrader processes at once, with progress, a log, and a journal to resume from.

nbgrader grades one submission after another. Here the students waiting to be graded go out in
small batches to at most `jobs` `nbgrader autograde --force` processes running side by side, each
grading its batch (a student's kernel is still started fresh, in its own sandbox). Their
gradebook transactions take turns (gradebook_lock.py). Every line they print goes to the log,
prefixed with the worker's number; each finished student is printed with finished/total and an
estimate of the time left, and written to a journal. Interrupted (Ctrl-C), the workers and their
kernels stop, the grades already saved stay, and the journal lets the next run grade the rest.
"""
import math
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from tools.grading.course import start_nbgrader
from tools.grading.gradebook_lock import LOCK_VARIABLE

STARTED = re.compile(r"Autograding .*[/\\]autograded[/\\](?P<student>[^/\\]+)[/\\]")
FINISHED = re.compile(r"Setting destination file permissions")
FAILED = re.compile(r"error processing assignment '[^']*' for student '(?P<student>[^']+)'")
GIB = 2**30
MIN_BATCH = 4
MEMORY_PER_JOB = 2.5 * GIB  # a kernel with ViT-B/16 (about 1.7 GB) and the grader's own models beside it


def default_jobs():
    """As many workers as cores, but no more than the available memory holds."""
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
    return max(1, min(os.cpu_count() or 1, int(available // MEMORY_PER_JOB)))


def batches(students, jobs):
    """Students in batches of nearly equal size: one batch for one worker, else about three batches per worker
    (the slow even out), but no fewer than MIN_BATCH students a batch unless a worker would then sit idle: each
    batch starts an nbgrader process, whose imports cost about half a student's grading."""
    if not students:
        return []
    per_worker = math.ceil(len(students) / jobs)
    size = per_worker if jobs == 1 else max(math.ceil(len(students) / (3 * jobs)), min(MIN_BATCH, per_worker))
    count = math.ceil(len(students) / size)
    bounds = [round(i * len(students) / count) for i in range(count + 1)]
    return [list(students[begin:end]) for begin, end in zip(bounds, bounds[1:])]


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
    could not grade. Each worker is told to leave out all but its batch (nbgrader's student_id_exclude)."""
    failed, log_lock, workers = set(), threading.Lock(), []
    queue = batches(pending, jobs)
    threads = threads_per_kernel(jobs)
    environment = {LOCK_VARIABLE: str(log_path.with_name(".gradebook.lock")), "OMP_NUM_THREADS": str(threads)}
    with open(log_path, "a", buffering=1) as log:
        def run(number, batch):
            others = ",".join(sorted(set(everyone) - set(batch)))
            process = start_nbgrader(course, "autograde", assignment, "--force", *options,
                                     f"--SandboxedExecute.threads={threads}",
                                     *([f"--CourseDirectory.student_id_exclude={others}"] if others else []),
                                     environment=environment, new_session=True)
            workers.append(process)
            current, reported = None, set()
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
            for student in batch:  # nbgrader gave up on these (its error lines name them), or the run stopped
                if student not in reported:
                    progress.finish(student, "  (not graded)")

        try:
            active = []
            for number, batch in enumerate(queue, 1):
                while len([t for t in active if t.is_alive()]) >= jobs:
                    time.sleep(0.2)
                thread = threading.Thread(target=run, args=(number, batch), daemon=True)
                thread.start()
                active.append(thread)
            for thread in active:
                while thread.is_alive():
                    thread.join(0.2)
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
    return failed
