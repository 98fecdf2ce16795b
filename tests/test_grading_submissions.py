"""Grade the table of simulated submissions (submissions.py) as an instructor would, and check every score.

In one copy of the course: `release` records the assignments in the gradebook; for each
assignment the submissions arrive as LMS downloads (a second download brings a
resubmission) through `collect`, except one delivered as a folder with extra files, as
nbgrader's exchange delivers them; one sandboxed `autograde` run grades them all; then
the CSV export and the feedback. Each assignment is graded the first time a test needs it.
Every attack whose defence can be switched off is graded again with it off, in another
copy of the course, to show that the defence is what stops it.
"""
import csv
import html
import os
import re
from dataclasses import dataclass, replace as dataclasses_replace
from pathlib import Path

import nbformat
import pytest

from course_copy import assignments, cell_scores, copy_course, nbgrader
from submissions import (EXERCISES, GENERIC_ASSIGNMENT, expected_scores, generic_students,
                         graded_cells, per_exercise_students, solution_notebook, submission)
from tools.grading import autograde, collect, feedback, parallel, release, simulate
from tools.grading.simulate import lms_name

# nbgrader's own parser reads these two times in the wrong order (see tools/grading/collect.py).
FIRST, SECOND = "2024-03-01-09-30-05", "2024-03-01-09-45-00"
LOOP_TIMEOUT = 20  # seconds per cell when grading GENERIC_ASSIGNMENT, whose slowest cell takes a second
TOKEN = "hf_instructors_secret_token"
JOBS = 2  # submissions graded at once (the `regraded` fixture grades some again one at a time)
# The LMS file-name pattern before it was anchored: greedy, it takes the last "_<id>_attempt_<time>_" in the name.
GREEDY_LMS_PATTERN = r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>[^/]+)\.ipynb$"
DEFENCES_OFF = ["--SandboxedExecute.host_verdict=False", "--SandboxedExecute.withhold_answers=False",
                "--SandboxedExecute.count_shared_memory=False", "--SandboxedExecute.tmp_size=0",
                "--SandboxedExecute.output_limit=0"]


def students(assignment):
    return per_exercise_students(assignment) + (generic_students() if assignment == GENERIC_ASSIGNMENT else [])


CASES = [(a, s) for a in assignments() for s in students(a)]


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


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = copy_course(tmp_path_factory.mktemp("course"))
    release.release(folder, assignments(), folder / "release_zips")
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
            problems = autograde.autograde(course, assignment, options, JOBS)
            assert "database is locked" not in (course / "logs" / f"autograde_{assignment}.log").read_text()
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
        assert set(problems) == {"broken-json", "renamed", "spoofer", "dotdot"}
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




def _page_text(course, student, assignment):
    page = course / "feedback" / student / assignment / f"{assignment}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text())) if page.exists() else None


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_shows_the_verdicts_and_no_test_code(course, graded, assignment):
    graded(assignment)
    assert feedback.feedback(course, assignment) == {}
    for student in students(assignment):
        text = _page_text(course, student.id, assignment)
        if not student.gradable:
            assert text is None
            continue
        if student.name != "noisy":  # it prints its kernel's input history, with the hidden cells' one-line calls
            assert "run_hidden_test" not in text, f"{student.id}'s feedback shows hidden test code"
    assert "채점기" in _page_text(course, "constant", assignment), "the constant answer's feedback says why it failed"


# Graded again by one worker: full marks, one wrong answer (partial marks), and the row that fills the sandbox's /tmp.
REGRADED = [per_exercise_students(GENERIC_ASSIGNMENT)[i].id for i in (0, 3)] + ["fills-tmp"]


@pytest.fixture(scope="module")
def regraded(course, graded, tmp_path_factory):
    """(scores of the JOBS=2 run, scores of a sequential regrade, the grader's temporary folder for the regrade).

    The regrade's nbgrader gets a temporary folder of its own (TMPDIR), which no other test's grading shares."""
    first = graded(GENERIC_ASSIGNMENT).cells
    temporary = tmp_path_factory.mktemp("graders_tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(temporary))
        autograde.autograde(course, GENERIC_ASSIGNMENT, [f"--Execute.timeout={LOOP_TIMEOUT}"], jobs=1, only=REGRADED)
    log = (course / "logs" / f"autograde_{GENERIC_ASSIGNMENT}.log").read_text()
    assert {m["student"] for m in parallel.STARTED.finditer(log)} == set(REGRADED), "it graded other students too"
    return {name: first[name] for name in REGRADED}, cell_scores(course, GENERIC_ASSIGNMENT, REGRADED), temporary


def test_one_worker_gives_the_scores_of_two_test_cell_by_test_cell(regraded):
    two_workers, one_worker, _ = regraded
    assert one_worker == two_workers


def test_no_grading_leaves_files_in_the_graders_temporary_folder(regraded):
    *_, temporary = regraded
    assert list(temporary.glob("xai-grading-*")) == []


def test_the_graded_notebooks_hold_no_token_and_no_huge_output(course, graded):
    graded(GENERIC_ASSIGNMENT)
    reader = course / "autograded" / "reads-token" / GENERIC_ASSIGNMENT / f"{GENERIC_ASSIGNMENT}.ipynb"
    assert TOKEN not in reader.read_text() and "not there" in reader.read_text()
    huge = course / "autograded" / "huge-output" / GENERIC_ASSIGNMENT / f"{GENERIC_ASSIGNMENT}.ipynb"
    assert huge.stat().st_size < 6 * 2**20


def test_without_its_defence_each_attack_wins(tmp_path_factory):
    """Every row with a defence, graded with the defences off: each attack gets what it was after."""
    course = copy_course(tmp_path_factory.mktemp("defences_off"))
    nbgrader(course, "generate_assignment", GENERIC_ASSIGNMENT, "--force")
    table = [student for student in generic_students() if student.defence]
    deliver(course, GENERIC_ASSIGNMENT, table, tmp_path_factory.mktemp("lms_defences_off"))
    autograde.autograde(course, GENERIC_ASSIGNMENT, [f"--Execute.timeout={LOOP_TIMEOUT}", *DEFENCES_OFF], JOBS)
    scores = cell_scores(course, GENERIC_ASSIGNMENT, [student.id for student in table])
    for student in table:
        without = expected_scores(GENERIC_ASSIGNMENT, dataclasses_replace(student, loses=student.loses_without_defence))
        assert {name: score for name, (score, _) in scores[student.id].items()} == without, student.name
    huge = course / "autograded" / "huge-output" / GENERIC_ASSIGNMENT / f"{GENERIC_ASSIGNMENT}.ipynb"
    assert huge.stat().st_size > 40_000_000


def test_a_greedy_lms_pattern_let_a_student_replace_anothers_grade(course, graded, tmp_path_factory):
    graded(GENERIC_ASSIGNMENT)
    notebook = course / "submitted" / "correct" / GENERIC_ASSIGNMENT / f"{GENERIC_ASSIGNMENT}.ipynb"
    assert "raise NotImplementedError" not in notebook.read_text() and not (course / GENERIC_ASSIGNMENT).exists()
    unsafe = copy_course(tmp_path_factory.mktemp("greedy_pattern"))
    nbgrader(unsafe, "generate_assignment", GENERIC_ASSIGNMENT, "--force")
    table = [student for student in generic_students() if student.name in ("spoofer", "dotdot")]
    deliver(unsafe, GENERIC_ASSIGNMENT, table + per_exercise_students(GENERIC_ASSIGNMENT)[:1],
            tmp_path_factory.mktemp("lms_greedy"),
            [f"--FileNameCollectorPlugin.named_regexp={GREEDY_LMS_PATTERN}",
             "--LmsFileNameCollector.check_student_ids=False"])
    victim = unsafe / "submitted" / "correct" / GENERIC_ASSIGNMENT
    assert (victim / "timestamp.txt").read_text().startswith("2099-12-31"), "the spoofed attempt replaced the victim's"
    assert (unsafe / GENERIC_ASSIGNMENT / f"{GENERIC_ASSIGNMENT}.ipynb").exists(), "'..' wrote outside submitted/"


def test_marker_text_in_an_answer_stops_only_nbgraders_own_feedback(course, graded):
    graded(GENERIC_ASSIGNMENT)
    others = set(feedback.graded_students(course, GENERIC_ASSIGNMENT)) - {"correct", "marker-text"}
    two_students = [f"--CourseDirectory.student_id_exclude={','.join(sorted(others))}"]
    problems = feedback.feedback(course, GENERIC_ASSIGNMENT,
                                 options=[*two_students, "--ClearHiddenTestsInTestCells.only_test_cells=False"])
    assert set(problems) == {"marker-text"}
    assert _page_text(course, "correct", GENERIC_ASSIGNMENT) is not None
    assert feedback.feedback(course, GENERIC_ASSIGNMENT, options=two_students) == {}
    assert _page_text(course, "marker-text", GENERIC_ASSIGNMENT) is not None
