"""Grading a class in parallel (tools/grading/parallel.py): workers that share out the students by claiming
them (tools/grading/claims.py), each student once, and an interruption that loses nothing.

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
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory

from course_copy import cell_scores, copy_course, nbgrader
from submissions import expected_scores, per_exercise_students, submission
from tools.grading import autograde, claims, collect, parallel, simulate

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


def claim_all(folder, students):
    """The students this process claimed, trying each in turn (as a worker does)."""
    return [student for student in students if claims.claim(folder, student)]


def test_workers_racing_for_the_same_students_claim_each_exactly_once(tmp_path):
    students = [f"student{i:03d}" for i in range(300)]
    with ProcessPoolExecutor(2) as pool:
        first, second = pool.map(claim_all, [tmp_path] * 2, [students] * 2)
    assert sorted(first + second) == students
    assert not claims.claim(tmp_path, students[0]), "a claimed student was claimed again"


def test_a_worker_passes_over_a_student_another_has_claimed_and_leaves_their_notebook_alone(tmp_path, monkeypatch):
    """nbgrader's init_destination, which with --force deletes the graded notebook, runs only for this worker's own."""
    examined = []
    monkeypatch.setattr(Autograde, "init_destination", lambda self, assignment, student: examined.append(student) or True)
    converter = claims.ClaimingAutograde(coursedir=CourseDirectory())
    monkeypatch.setenv(claims.CLAIMS_VARIABLE, str(tmp_path))
    assert claims.claim(tmp_path, "taken")
    assert converter.init_destination(ASSIGNMENT, "taken") is False
    assert converter.init_destination(ASSIGNMENT, "free") is True
    assert examined == ["free"] and not claims.claim(tmp_path, "free")
    monkeypatch.delenv(claims.CLAIMS_VARIABLE)  # a plain `nbgrader autograde`: nbgrader decides alone
    assert converter.init_destination(ASSIGNMENT, "taken") is True and examined == ["free", "taken"]


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
