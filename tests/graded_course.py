"""A course copy that grades the table of simulated submissions (submissions.py) as an instructor would.

Shared by the two files that grade the table, so that pytest-xdist can give them to two workers:
test_grading_submissions.py (every assignment but GENERIC_ASSIGNMENT) and test_grading_attacks.py
(GENERIC_ASSIGNMENT, where every attack and odd submission is tried). A test module names the
assignments it grades in ASSIGNMENTS; its `course` fixture releases those into one copy of the course.
For each assignment the submissions arrive as LMS downloads (a second download brings a
resubmission) through `collect`, except one delivered as a folder with extra files, as nbgrader's
exchange delivers them; one sandboxed `autograde` run grades them all, with the test module's JOBS
workers; then the CSV export.
Each assignment is graded the first time a test needs it. check_scores and check_feedback are what
both files check of every row.
"""
import csv
import html
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course_copy import cell_scores, copy_course, nbgrader
from submissions import GENERIC_ASSIGNMENT, expected_scores, generic_students, per_exercise_students, submission
from tools.grading import autograde, collect, feedback, parallel, release, simulate
from tools.grading.simulate import lms_name

# nbgrader's own parser reads these two times in the wrong order (see tools/grading/collect.py).
FIRST, SECOND = "2024-03-01-09-30-05", "2024-03-01-09-45-00"
LOOP_TIMEOUT = 20  # seconds per cell when grading GENERIC_ASSIGNMENT, whose slowest cell takes a second
TOKEN = "hf_instructors_secret_token"


def students(assignment):
    return per_exercise_students(assignment) + (generic_students() if assignment == GENERIC_ASSIGNMENT else [])


def cases(assignments):
    """(assignment, student) for every row of the table of these assignments."""
    return [(a, s) for a in assignments for s in students(a)]


def notebook_text(released, assignment, student):
    content = submission(released, assignment, student)
    return content if isinstance(content, str) else nbformat.writes(content)


def deliver(course, assignment, table, downloads, collect_options=()):
    """Submit every student of `table`: LMS downloads through `collect`, extra files as a folder."""
    released = nbformat.read(course / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    first, second = {}, {}
    for student in table:
        if student.extra_files:
            folder = course / "submitted" / student.id / assignment
            for name, text in {f"{assignment}.ipynb": notebook_text(released, assignment, student),
                               **student.extra_files}.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(text)
        elif student.earlier:
            first[lms_name(assignment, student.id, FIRST)] = notebook_text(released, assignment, student.earlier)
            second[lms_name(assignment, student.id, SECOND)] = notebook_text(released, assignment, student)
        else:
            first[lms_name(assignment, student.id, FIRST, student.notebook_name)] = \
                notebook_text(released, assignment, student)
    for number, files in enumerate((first, second), 1):
        if files:
            download = simulate.lms_download(downloads / f"download_{number}.zip", assignment, files)
            collect.collect(course, assignment, download, options=collect_options)


@dataclass
class Graded:
    problems: dict      # student -> why it could not be graded
    cells: dict         # student -> {test grade_id: (score, needs manual grade)}
    totals: dict        # student -> score in the exported CSV


def exported_totals(course, assignment):
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)
                if row["assignment"] == assignment}


def page_text(course, student, assignment):
    """The text of a student's feedback page (None if there is none)."""
    page = course / "feedback" / student / assignment / f"{assignment}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text())) if page.exists() else None


def autograded_notebook(course, student, assignment):
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory, request):
    """A course copy with the test module's ASSIGNMENTS released (recorded in the gradebook, zips written)."""
    folder = copy_course(tmp_path_factory.mktemp("course"))
    release.release(folder, request.module.ASSIGNMENTS, folder / "release_zips")
    return folder


@pytest.fixture(scope="module")
def token():
    """A Hugging Face token beside the model files, as an instructor's cache may hold one."""
    path = Path(os.environ["HF_HOME"]) / "token"
    path.write_text(TOKEN)
    yield path
    path.unlink()


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory, request):
    """assignment -> Graded; each assignment is delivered and graded the first time it is asked for."""
    results = {}

    def grade(assignment):
        if assignment not in results:
            if assignment == GENERIC_ASSIGNMENT:
                request.getfixturevalue("token")  # for the row that looks for it
            table = students(assignment)
            deliver(course, assignment, table, tmp_path_factory.mktemp(f"lms_{assignment}"))
            options = [f"--Execute.timeout={LOOP_TIMEOUT}"] if assignment == GENERIC_ASSIGNMENT else []
            problems = autograde.autograde(course, assignment, options, request.module.JOBS)
            log = (course / "logs" / f"autograde_{assignment}.log").read_text()
            assert "database is locked" not in log
            started = Counter(m["student"] for m in parallel.STARTED.finditer(log))
            assert [s for s, count in started.items() if count > 1] == [], "two workers graded the same student"
            names = [student.id for student in table]
            results[assignment] = Graded(problems, cell_scores(course, assignment, names),
                                         exported_totals(course, assignment))
        return results[assignment]
    return grade


def check_scores(graded, assignment, student):
    """Every test cell of the student's submission got the expected points, none awaits manual grading, and the
    exported total is their sum."""
    result = graded(assignment)
    expected = expected_scores(assignment, student)
    scores = {name: score for name, (score, _) in result.cells[student.id].items()}
    assert scores == expected
    if student.gradable:
        assert not any(manual for _, manual in result.cells[student.id].values()), "left for manual grading"
    assert result.totals[student.id] == sum(expected.values())


def check_feedback(course, graded, assignment):
    """Every graded student gets a feedback page with the verdicts and no test code."""
    graded(assignment)
    assert feedback.feedback(course, assignment) == {}
    for student in students(assignment):
        text = page_text(course, student.id, assignment)
        if not student.gradable:
            assert text is None
            continue
        if student.name != "noisy":  # it prints its kernel's input history, with the hidden cells' one-line calls
            assert "run_hidden_test" not in text, f"{student.id}'s feedback shows hidden test code"
    assert "채점기" in page_text(course, "constant", assignment), "the constant answer's feedback says why it failed"
