"""`make bench-class`: grade a simulated class of every assignment with one worker and with two, and show
where one notebook's grading time goes. A measurement (benchmarks/class.json), never a test.

The class mixes what a real one hands in: mostly correct notebooks, some with one exercise left
as released, an untouched notebook, an endless loop (interrupted after the course's cell timeout)
and a memory bomb (refused by the sandbox). Each run grades all assignments in a fresh copy of the
course, as `make autograde` does, with its wall time and peak memory; the scores of the two runs
are compared test cell by test cell. The grader logs each notebook's time by part (execute.py:
kernel start, the notebook's own cells, the answers, the checks, the hidden tests, and its own
work before and after); those lines of the one-worker run give the profile.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

import nbformat

from tools.bench.processes import measure_command
from tools.grading import autograde, collect, course, simulate

LOOP = "while True:  # an endless loop, interrupted after the cell timeout\n    pass\n"
MEMORY_BOMB = "_everything = torch.ones(2_000_000_000)  # 8 GB: the sandbox refuses it\n"
TIMING = re.compile(r"grading time: (?P<parts>.*)$")
PART = re.compile(r"(?P<part>[a-z: ]+) (?P<seconds>[0-9.]+) s")


def class_answers(course_folder, assignment, size):
    """{student id: the answers that student hands in} for a class of `size` (one of each unusual kind)."""
    answers = simulate.reference_answers(course_folder, assignment)
    exercises = list(answers)
    released = nbformat.read(Path(course_folder) / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    stubs = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in released.cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") in answers}
    students = {}
    for number in range(size):
        if number == 0:
            chosen = stubs                                                        # untouched
        elif number == 1:
            chosen = {**answers, exercises[0]: LOOP + answers[exercises[0]]}
        elif number == 2:
            chosen = {**answers, exercises[0]: MEMORY_BOMB + answers[exercises[0]]}
        elif number % 4 == 3:
            left = exercises[number // 4 % len(exercises)]
            chosen = {**answers, left: stubs[left]}                               # one exercise not done
        else:
            chosen = answers
        students[f"student{number:02d}"] = simulate.answered(released, chosen)
    return students


def class_course(folder, size):
    """A copy of the course with the simulated class of every assignment collected into submitted/."""
    folder = course.copy_course(folder)
    for assignment in course.assignments(folder):
        course.nbgrader(folder, "generate_assignment", assignment, "--force", "--log-level=WARN", check=True,
                        capture_output=True)
        files = {simulate.lms_name(assignment, student, "2024-03-01-10-00-00"): nbformat.writes(notebook)
                 for student, notebook in class_answers(folder, assignment, size).items()}
        collect.collect(folder, assignment, simulate.lms_download(folder / f"{assignment}.zip", assignment, files))
    return folder


def class_run(scratch, size, jobs):
    """Grade every assignment of a simulated class with `jobs` workers: wall time, memory, scores, profile lines."""
    folder = class_course(Path(scratch) / f"class_{jobs}", size)
    assignments = course.assignments(folder)
    grade_all = ("import sys; from tools.grading.autograde import main; "
                 "[main([a, '--course', sys.argv[1], '--jobs', sys.argv[2]]) for a in sys.argv[3:]]")
    measured = measure_command([sys.executable, "-c", grade_all, str(folder), str(jobs), *assignments],
                               cwd=course.ROOT)
    scores, timings = {}, []
    for assignment in assignments:
        students = autograde.submissions(folder, assignment)
        with autograde.gradebook(folder) as gb:
            scores[assignment] = {s: {g.name: g.score for g in gb.find_submission_notebook(assignment, assignment, s).grades}
                                  for s in students}
        log = (folder / "logs" / f"autograde_{assignment}.log").read_text()
        timings += [{"assignment": assignment, **parts(m["parts"])} for m in map(TIMING.search, log.splitlines()) if m]
    notebooks = size * len(assignments)
    return {"jobs": jobs, "students": size, "notebooks": notebooks, **measured,
            "notebooks_per_hour": 3600 * notebooks / measured["wall_s"], "scores": scores, "timings": timings}


def parts(text):
    """{part: seconds} of one "grading time:" log line."""
    return {m["part"].strip(): float(m["seconds"]) for m in PART.finditer(text)}


def profile(timings):
    """The mean seconds of each part per assignment, from the log lines of the one-worker run."""
    by_assignment = defaultdict(list)
    for timing in timings:
        by_assignment[timing["assignment"]].append(timing)
    return {assignment: {part: sum(t.get(part, 0.0) for t in rows) / len(rows)
                         for part in dict.fromkeys(p for t in rows for p in t if p != "assignment")}
            for assignment, rows in by_assignment.items()}
