"""Whole runs: executing each solution notebook, and autograding one student's notebooks (every assignment)."""
import shutil
import sys

from coursekit.paths import COURSE_ROOT
from tools.bench.processes import measure_command
from tools.grading import course

NOTEBOOK_TARGET = "<= 60 s"
AUTOGRADE_TARGET = "<= 180 s, <= 3072 MB"
STUDENT = "bench-student"


def _solution_notebooks():
    return sorted((COURSE_ROOT / "solutions").glob("*/*.ipynb"))


def notebook_runs(scratch):
    """Execute every solution notebook end to end (nbconvert, like a student's "Run All")."""
    rows = []
    for notebook in _solution_notebooks():
        command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                   "--ExecutePreprocessor.timeout=600", "--output-dir", str(scratch), str(notebook)]
        rows.append({"run": f"notebook {notebook.stem}", "target": NOTEBOOK_TARGET, **measure_command(command)})
    return rows


def autograde_run(scratch):
    """`make autograde` of every assignment for one student who submitted the reference answers,
    in a copy of the course (sandbox and host-side verdict included, as an instructor runs it)."""
    folder = course.copy_course(scratch / "course")
    for assignment in course.assignments(folder):
        course.nbgrader(folder, "generate_assignment", assignment, "--force", "--log-level=WARN",
                        check=True, capture_output=True)
        submitted = folder / "submitted" / STUDENT / assignment
        submitted.mkdir(parents=True)
        shutil.copy2(folder / "solutions" / assignment / f"{assignment}.ipynb", submitted)
    grade_all = ("import sys; from tools.grading.autograde import main; "
                 "sys.exit(max(main([a, '--course', sys.argv[1]]) for a in sys.argv[2:]))")
    command = [sys.executable, "-c", grade_all, str(folder), *course.assignments(folder)]
    return {"run": f"autograde one student, {len(course.assignments(folder))} notebooks", "target": AUTOGRADE_TARGET,
            **measure_command(command, cwd=COURSE_ROOT)}
