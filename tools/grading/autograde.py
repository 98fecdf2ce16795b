"""`make autograde A=<assignment>`: grade every submission of an assignment in the sandbox, with progress.

Each submission is looked at first, so a notebook that is not valid JSON, or one saved under
another name than the released one ("01_cam (1).ipynb"), is reported by name with what to do
(nbgrader gives it 0 and goes on). The assignment is recorded in the gradebook if it
is not there yet. One `nbgrader autograde --force` run grades all students (each in its own
sandboxed kernel, see execute.py) while this prints a line as each student starts; the run's
full log goes to logs/autograde_<assignment>.log. A table of scores ends the run.
Exit status 0 when every submission was graded, 1 otherwise.
"""
import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from tools.grading import sandbox
from tools.grading.course import ROOT, nbgrader, start_nbgrader

STARTED = re.compile(r"Sanitizing .*[/\\]submitted[/\\](?P<student>[^/\\]+)[/\\]")
FAILED = re.compile(r"error processing assignment '[^']*' for student '(?P<student>[^']+)'")


def submissions(course, assignment):
    """Student ids with a folder submitted/<student>/<assignment>/."""
    return sorted(p.parent.name for p in (Path(course) / "submitted").glob(f"*/{assignment}") if p.is_dir())


def released_notebooks(course, assignment):
    """The notebook file names the assignment hands out (those nbgrader grades)."""
    return sorted(p.name for p in (Path(course) / "solutions" / assignment).glob("*.ipynb"))


def unreadable(course, assignment, student):
    """Why a student's submission cannot be graded (not a notebook, renamed, none submitted), or None."""
    folder = Path(course) / "submitted" / student / assignment
    notebooks = sorted(folder.glob("*.ipynb"))
    for path in notebooks:
        try:
            nbformat.read(path, as_version=4)
        except Exception as error:  # nbformat raises JSON, validation and encoding errors alike
            return f"{path.name} is not a valid notebook ({type(error).__name__}: {str(error).splitlines()[0]})"
    submitted, released = {path.name for path in notebooks}, released_notebooks(course, assignment)
    missing = [name for name in released if name not in submitted]
    if missing:
        others = sorted(submitted.difference(released))
        fix = f"; it has {', '.join(others)}: rename it in {folder} and autograde again" if others else ""
        return f"no {', '.join(missing)} in {folder}{fix}"
    return None


def gradebook(course):
    """The course's gradebook, through nbgrader's API (use it in a `with` block)."""
    return Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}")


def ensure_in_gradebook(course, assignment):
    """Record the assignment and its tests in the gradebook (generate_assignment) unless it is there."""
    with gradebook(course) as gb:
        try:
            gb.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    print(f"{assignment} is not in the gradebook yet: nbgrader generate_assignment {assignment}", flush=True)
    nbgrader(course, "generate_assignment", assignment, "--force", "--log-level=WARN", check=True)


def run_autograde(course, assignment, students, options, log_path):
    """Run nbgrader autograde, printing progress; return the students nbgrader could not grade."""
    failed, started, begin = set(), 0, time.monotonic()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = start_nbgrader(course, "autograde", assignment, "--force", *options)
    with open(log_path, "w", buffering=1) as log:  # line by line, so that it can be followed
        for line in process.stdout:
            log.write(line)
            if match := STARTED.search(line):
                started += 1
                minutes, seconds = divmod(int(time.monotonic() - begin), 60)
                print(f"[{started}/{len(students)}] {match['student']}  (elapsed {minutes}:{seconds:02d})", flush=True)
            elif match := FAILED.search(line):
                failed.add(match["student"])
    process.wait()
    return failed


def scores(course, assignment, students):
    """(score, max_score) per student from the gradebook; None where there is no graded submission."""
    result = {}
    with gradebook(course) as gb:
        for student in students:
            try:
                submission = gb.find_submission(assignment, student)
                result[student] = (submission.score, submission.max_score)
            except MissingEntry:
                result[student] = None
    return result


def autograde(course, assignment, options=()):
    """Grade every submission; print progress and a table; return the {student: problem} dict."""
    course = Path(course)
    students = submissions(course, assignment)
    if not students:
        print(f"no submissions: submitted/<student>/{assignment}/ is empty (make collect first)")
        return {}
    sandbox.check(course)
    problems = {s: why for s in students if (why := unreadable(course, assignment, s))}
    ensure_in_gradebook(course, assignment)
    log_path = course / "logs" / f"autograde_{assignment}.log"
    print(f"autograding {len(students)} submissions of {assignment} (log: {log_path})", flush=True)
    for student in run_autograde(course, assignment, students, options, log_path):
        problems.setdefault(student, f"nbgrader could not grade it: see {log_path}")
    for student, result in scores(course, assignment, students).items():
        score = "-" if result is None else f"{result[0]:g} / {result[1]:g}"
        print(f"  {student:<24} {score:>12}  {problems.get(student, '')}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=ROOT, type=Path)
    args, nbgrader_options = parser.parse_known_args(argv)  # e.g. --Execute.timeout=60 goes to nbgrader
    problems = autograde(args.course, args.assignment, nbgrader_options)
    if problems:
        print(f"{len(problems)} submission(s) not graded: fix or regrade them by hand (see above).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
