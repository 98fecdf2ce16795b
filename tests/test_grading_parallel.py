"""Grading a class in parallel (tools/grading/parallel.py): batches that keep the workers busy, and an
interruption that loses nothing.

A small class of 01_cam (correct, untouched, constant, a wrong answer) is graded with two workers,
and the run is interrupted (SIGINT, as Ctrl-C sends) once a student has finished: the workers and
kernels stop, the saved grades stay, and the next run grades only the students the interrupted one
had not finished. (That one worker and two give the same scores, test cell by test cell, is shown
on the graded-submissions table: tests/test_grading_attacks.py.)
"""
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from course_copy import cell_scores, copy_course, nbgrader
from submissions import expected_scores, per_exercise_students, submission
from tools.grading import autograde, collect, parallel, simulate

ASSIGNMENT = "01_cam"
CLASS = per_exercise_students(ASSIGNMENT)[:4]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = copy_course(tmp_path_factory.mktemp("class"))
    nbgrader(folder, "generate_assignment", ASSIGNMENT, "--force")
    released = nbformat.read(folder / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    download = simulate.lms_download(tmp_path_factory.mktemp("lms") / "download.zip", ASSIGNMENT, {
        simulate.lms_name(ASSIGNMENT, student.id, "2024-03-01-10-00-00"): nbformat.writes(submission(released, ASSIGNMENT, student))
        for student in CLASS})
    collect.collect(folder, ASSIGNMENT, download)
    return folder


def scores(course, names):
    """{student: {test cell: score}} from the gradebook, for the named students (each with a graded submission)."""
    return {name: {cell: score for cell, (score, _) in cells.items()}
            for name, cells in cell_scores(course, ASSIGNMENT, names).items()}


def processes_of(course):
    """Processes (nbgrader workers, sandboxes, kernels) whose command line names the course folder."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(course) in command and int(pid) != os.getpid():
            found.append(command)
    return found


@pytest.mark.parametrize("students,jobs,sizes", [
    (0, 2, []), (1, 2, [1]), (3, 2, [2, 1]), (5, 2, [2, 3]), (8, 1, [8]),
    (24, 2, [4] * 6),                  # a class: about three batches per worker, each of at least MIN_BATCH
    (31, 2, [5, 5, 6, 5, 5, 5]),       # nearly equal, not five of six and a straggler of one
    (100, 8, [5] * 20),
])
def test_batches_are_nearly_equal_and_never_leave_a_worker_idle_for_want_of_one(students, jobs, sizes):
    found = parallel.batches([f"s{i}" for i in range(students)], jobs)
    assert [len(batch) for batch in found] == sizes
    assert sum(found, []) == [f"s{i}" for i in range(students)]
    assert len(found) >= min(jobs, students)


@pytest.mark.parametrize("cores,jobs,variable,threads", [
    (2, 1, None, 2), (2, 2, None, 1), (8, 3, None, 2), (1, 4, None, 1),   # a share of the cores, at least one
    (8, 2, "1", 1), (8, 2, "16", 4),                                     # OMP_NUM_THREADS caps it, never raises it
    (8, 2, "", 4), (8, 2, "0", 4), (8, 2, "two", 4),                     # an empty or unusable value is no cap
])
def test_each_kernel_gets_its_share_of_the_cores_capped_by_omp_num_threads(monkeypatch, cores, jobs, variable,
                                                                          threads):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    if variable is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", variable)
    assert parallel.threads_per_kernel(jobs) == threads


def test_an_interrupted_run_stops_everything_keeps_its_grades_and_is_resumed(course, tmp_path):
    command = [sys.executable, "-m", "tools.grading.autograde", ASSIGNMENT, "--course", str(course), "--jobs", "2",
               "--restart"]
    environment = {**os.environ, "PYTHONPATH": str(course), "TMPDIR": str(tmp_path)}  # the graders' own temporary files
    # As from a terminal: SIGINT raises KeyboardInterrupt (an xdist worker, the test's parent, ignores it)
    run = subprocess.Popen(command, cwd=course, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=environment,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in run.stdout:
        lines.append(line)
        if line.startswith("[1/4]"):
            break
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 130, "".join(lines) + output
    deadline = time.monotonic() + 30
    while processes_of(course) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_of(course) == [], "a worker or kernel outlived the interruption"
    assert list(tmp_path.iterdir()) == [], "the stopped graders left their temporary files"
    journal = course / "logs" / f"autograde_{ASSIGNMENT}.unfinished"
    finished = journal.read_text().split()
    assert finished and set(finished) < {s.id for s in CLASS}
    # (a student the interrupted run never reached has no submission in the gradebook to ask about)
    assert scores(course, finished) == {s.id: expected_scores(ASSIGNMENT, s) for s in CLASS if s.id in finished}

    resumed = subprocess.run([*command[:-1]], cwd=course, text=True, capture_output=True, env=environment)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert processes_of(course) == [], "a kernel outlived its grading"
    assert f"{len(finished)} finished by the interrupted run before" in resumed.stdout
    regraded = [line.split()[1] for line in resumed.stdout.splitlines() if line.startswith("[")]
    assert sorted(regraded) == sorted(s.id for s in CLASS if s.id not in finished)
    assert not journal.exists()
    assert scores(course, [s.id for s in CLASS]) == {s.id: expected_scores(ASSIGNMENT, s) for s in CLASS}
