"""Grade GENERIC_ASSIGNMENT's table as an instructor would: its exercises, and every attack and odd submission.

The rows (submissions.py: per_exercise_students and generic_students) go through release, LMS
downloads, `collect`, one sandboxed `autograde` run with two workers, the CSV export and the feedback
(graded_course.py). Every attack whose defence can be switched off is graded again with it off, in
another copy of the course, to show that the defence is what stops it; a few rows are graded again by
one worker, to show that two workers give the same scores. The other assignments' tables:
test_grading_submissions.py.
"""
from dataclasses import replace as dataclasses_replace

import pytest

from course_copy import cell_scores, copy_course, nbgrader
from graded_course import (FIRST, LOOP_TIMEOUT, SECOND, TOKEN, autograded_notebook, cases, check_feedback,
                           check_scores, course, deliver, graded, page_text, token)  # noqa: F401 (fixtures)
from submissions import (GENERIC_ASSIGNMENT, expected_scores, generic_students, per_exercise_students,
                         solution_notebook)
from tools.grading import autograde, feedback, parallel
from tools.grading.simulate import lms_name

ASSIGNMENTS = [GENERIC_ASSIGNMENT]
CASES = cases(ASSIGNMENTS)
JOBS = 2  # submissions graded at once (a few are graded again by one worker: the same scores)
# The LMS file-name pattern before it was anchored: greedy, it takes the last "_<id>_attempt_<time>_" in the name.
GREEDY_LMS_PATTERN = r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>[^/]+)\.ipynb$"
DEFENCES_OFF = ["--SandboxedExecute.host_verdict=False", "--SandboxedExecute.withhold_answers=False",
                "--SandboxedExecute.count_shared_memory=False", "--SandboxedExecute.tmp_size=0",
                "--SandboxedExecute.output_limit=0"]


@pytest.mark.parametrize("assignment,student", CASES, ids=[f"{a}-{s.name}" for a, s in CASES])
def test_each_test_cell_scores_as_expected(graded, assignment, student):
    check_scores(graded, assignment, student)


def test_only_broken_submissions_are_reported(graded):
    problems = graded(GENERIC_ASSIGNMENT).problems
    assert set(problems) == {"broken-json", "renamed", "spoofer", "dotdot"}
    assert "is not a valid notebook" in problems["broken-json"]
    assert "no 01_cam.ipynb" in problems["renamed"] and "it has 01_cam (1).ipynb: rename it" in problems["renamed"]


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
    tampered = _test_cell_sources(autograded_notebook(course, "tampered-tests", GENERIC_ASSIGNMENT))
    original = _test_cell_sources(solution_notebook(GENERIC_ASSIGNMENT))
    assert tampered.keys() == original.keys()
    assert all(tampered[name].endswith(source) for name, source in original.items())  # nbgrader notes a restored cell


def _test_cell_sources(notebook):
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def test_feedback_shows_the_verdicts_and_no_test_code(course, graded):
    check_feedback(course, graded, GENERIC_ASSIGNMENT)


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
    assert page_text(course, "correct", GENERIC_ASSIGNMENT) is not None
    assert feedback.feedback(course, GENERIC_ASSIGNMENT, options=two_students) == {}
    assert page_text(course, "marker-text", GENERIC_ASSIGNMENT) is not None
