"""Grade the table of simulated submissions (submissions.py) as an instructor would, and check every score.

In one copy of the course: `release` records the assignments in the gradebook; for each
assignment the submissions arrive as LMS downloads (a second download brings a
resubmission) through `collect`, except one delivered as a folder with extra files, as
nbgrader's exchange delivers them; one sandboxed `autograde` run grades them all; then
the CSV export and the feedback. Each assignment is graded the first time a test needs it.
"""
import csv
import html
import re
import zipfile
from dataclasses import dataclass

import nbformat
import pytest

from course_copy import assignments, copy_course, nbgrader
from submissions import (EXERCISES, GENERIC_ASSIGNMENT, expected_scores, generic_students, graded_cells,
                         per_exercise_students, solution_notebook, submission)
from tools.grading import autograde, collect, release
from tools.grading.feedback import ANSI, secret_lines

# nbgrader's own parser reads these two times in the wrong order (see tools/grading/collect.py).
FIRST, SECOND = "2024-03-01-09-30-05", "2024-03-01-09-45-00"
LOOP_TIMEOUT = 20  # seconds per cell when grading GENERIC_ASSIGNMENT, whose slowest cell takes a second


def students(assignment):
    return per_exercise_students(assignment) + (generic_students() if assignment == GENERIC_ASSIGNMENT else [])


CASES = [(a, s) for a in assignments() for s in students(a)]


def lms_name(assignment, student, time, notebook=None):
    return f"{assignment}_{student}_attempt_{time}_{notebook or assignment}.ipynb"


def notebook_text(released, assignment, student):
    content = submission(released, assignment, student)
    return content if isinstance(content, str) else nbformat.writes(content)


def deliver(course, assignment, table, downloads):
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
            download = downloads / f"download_{number}.zip"
            with zipfile.ZipFile(download, "w") as archive:
                for name, text in files.items():
                    archive.writestr(f"{assignment}/{name}", text)
            collect.collect(course, assignment, download)


@dataclass
class Graded:
    problems: dict      # student -> why it could not be graded
    cells: dict         # student -> {test grade_id: (score, needs manual grade)}
    totals: dict        # student -> score in the exported CSV


def cell_scores(course, assignment, names):
    with autograde.gradebook(course) as gb:
        return {name: {grade.name: (grade.score, grade.needs_manual_grade)
                       for grade in gb.find_submission_notebook(assignment, assignment, name).grades}
                for name in names}


def exported_totals(course, assignment):
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)
                if row["assignment"] == assignment}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = copy_course(tmp_path_factory.mktemp("course"))
    release.release(folder, assignments(), folder / "release_zips")
    return folder


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """assignment -> Graded; each assignment is delivered and graded the first time it is asked for."""
    results = {}

    def grade(assignment):
        if assignment not in results:
            table = students(assignment)
            deliver(course, assignment, table, tmp_path_factory.mktemp(f"lms_{assignment}"))
            options = [f"--Execute.timeout={LOOP_TIMEOUT}"] if assignment == GENERIC_ASSIGNMENT else []
            problems = autograde.autograde(course, assignment, options)
            names = [student.id for student in table]
            results[assignment] = Graded(problems, cell_scores(course, assignment, names),
                                         exported_totals(course, assignment))
        return results[assignment]
    return grade


@pytest.mark.parametrize("assignment,student", CASES, ids=[f"{a}-{s.name}" for a, s in CASES])
def test_each_test_cell_scores_as_expected(graded, assignment, student):
    result = graded(assignment)
    expected = expected_scores(assignment, student)
    scores = {name: score for name, (score, _) in result.cells[student.id].items()}
    assert scores == expected
    if student.gradable:
        assert not any(manual for _, manual in result.cells[student.id].values()), "left for manual grading"
    assert result.totals[student.id] == sum(expected.values())


@pytest.mark.parametrize("assignment", assignments())
def test_only_broken_submissions_are_reported(graded, assignment):
    problems = graded(assignment).problems
    if assignment == GENERIC_ASSIGNMENT:
        assert set(problems) == {"broken-json", "renamed"}
        assert "is not a valid notebook" in problems["broken-json"]
        assert "no 01_cam.ipynb" in problems["renamed"] and "it has 01_cam (1).ipynb: rename it" in problems["renamed"]
    else:
        assert problems == {}


def test_every_assignment_is_in_the_table():
    for assignment in assignments():
        exercises = {exercise for _, exercise in graded_cells(assignment).values()}
        assert set(EXERCISES.get(assignment, {})) == exercises, \
            f"tests/submissions.py: EXERCISES[{assignment!r}] needs a wrong and a constant answer for {exercises}"


def test_the_later_attempt_counts_and_both_stay_on_disk(course, graded):
    graded(GENERIC_ASSIGNMENT)
    downloaded = course / "downloaded" / GENERIC_ASSIGNMENT
    assert {p.name for p in (downloaded / "archive").iterdir()} == {"download_1.zip", "download_2.zip"}
    attempts = sorted(p.name for p in (downloaded / "extracted").rglob("*resubmitted*"))
    assert attempts == [lms_name(GENERIC_ASSIGNMENT, "resubmitted", t) for t in (FIRST, SECOND)]
    timestamp = course / "submitted" / "resubmitted" / GENERIC_ASSIGNMENT / "timestamp.txt"
    assert timestamp.read_text().startswith("2024-03-01 09:45:00")


def test_extra_files_stay_on_disk_but_the_kernel_does_not_see_them(course, graded):
    graded(GENERIC_ASSIGNMENT)
    assert (course / "autograded" / "shadowing" / GENERIC_ASSIGNMENT / "utils.py").is_file()


def test_deleted_and_edited_test_cells_are_graded_as_released(course, graded):
    graded(GENERIC_ASSIGNMENT)
    tampered = _test_cell_sources(_autograded(course, "tampered-tests", GENERIC_ASSIGNMENT))
    original = _test_cell_sources(solution_notebook(GENERIC_ASSIGNMENT))
    assert tampered.keys() == original.keys()
    assert all(tampered[name].endswith(source) for name, source in original.items())  # nbgrader notes a restored cell


def _test_cell_sources(notebook):
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def _autograded(course, student, assignment):
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_never_shows_hidden_test_code(course, graded, assignment):
    graded(assignment)
    secret = secret_lines(solution_notebook(assignment))
    quoted = _quoted_in_outputs(_autograded(course, "untouched", assignment), secret)
    assert quoted, "the untouched student's tracebacks should quote hidden tests (else this test proves nothing)"
    nbgrader(course, "generate_feedback", assignment, "--force")
    for student in students(assignment):
        page = course / "feedback" / student.id / assignment / f"{assignment}.html"
        if not student.gradable:
            assert not page.exists()
            continue
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert not [line for line in secret if line in text], f"{student.id}'s feedback shows hidden test code"


def _quoted_in_outputs(notebook, secret):
    outputs = "\n".join(ANSI.sub("", text) for cell in notebook.cells for output in cell.get("outputs", [])
                        for text in (output.get("text", ""), *output.get("traceback", [])))
    return [line for line in secret if line in outputs]


def test_regrading_gives_identical_scores(course, graded):
    first = graded(GENERIC_ASSIGNMENT).cells
    again = ["correct", "cheat-call-time"]
    others = ",".join(name for name in first if name not in again)
    autograde.autograde(course, GENERIC_ASSIGNMENT,
                        [f"--Execute.timeout={LOOP_TIMEOUT}", f"--CourseDirectory.student_id_exclude={others}"])
    assert cell_scores(course, GENERIC_ASSIGNMENT, again) == {name: first[name] for name in again}


def test_without_the_guard_and_the_stderr_filter_these_submissions_would_score(tmp_path_factory):
    """The cheats work when the guard is off, and the noisy answers lose points when stderr counts."""
    course = copy_course(tmp_path_factory.mktemp("unguarded"))
    nbgrader(course, "generate_assignment", GENERIC_ASSIGNMENT, "--force")
    table = [s for s in generic_students() if s.name in ("cheat_definition", "cheat_call_time", "noisy")]
    deliver(course, GENERIC_ASSIGNMENT, table, tmp_path_factory.mktemp("lms_unguarded"))
    autograde.autograde(course, GENERIC_ASSIGNMENT, ["--SandboxedExecute.guard=False", "--IgnorePattern.enabled=False"])
    totals = {name: sum(score for score, _ in cells.values())
              for name, cells in cell_scores(course, GENERIC_ASSIGNMENT, [s.id for s in table]).items()}
    assert totals["cheat-definition"] == totals["cheat-call-time"] == 10.0
    assert totals["noisy"] < 10.0
