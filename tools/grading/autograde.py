"""`make autograde A=<assignment> [JOBS=n]`: grade every submission of an assignment in the sandbox, with progress.

Each submission is looked at first, so a notebook that is not valid JSON, or one saved under
another name than the released one ("01_cam (1).ipynb"), is reported by name with what to do
(nbgrader gives it 0 and goes on). The assignment is recorded in the gradebook if it is not
there yet. `nbgrader autograde --force` then grades every student, `jobs` at a time
(parallel.py; each student in a sandboxed kernel of its own, see execute.py), while a line per
finished student shows the progress; the full log goes to logs/autograde_<assignment>.log. A
table of scores ends the run. An interrupted run (Ctrl-C) is resumed by the next one, which
grades only the students it had not finished (--restart grades everyone again).
Exit status 0 when every submission was graded, 1 otherwise, 130 when interrupted.
"""
import argparse
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from tools.grading import parallel, sandbox
from tools.grading.course import ROOT, nbgrader


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


def autograde(course, assignment, options=(), jobs=1, restart=False, only=None):
    """Grade every submission (or those of the students in `only`), `jobs` at a time; print progress and a table;
    return the {student: problem} dict."""
    course = Path(course)
    everyone = submissions(course, assignment)
    students = [s for s in everyone if only is None or s in only]
    if not students:
        print(f"no submissions: submitted/<student>/{assignment}/ is empty (make collect first)")
        return {}
    sandbox.check(course)
    problems = {s: why for s in students if (why := unreadable(course, assignment, s))}
    ensure_in_gradebook(course, assignment)
    log_path = course / "logs" / f"autograde_{assignment}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    journal = parallel.Journal(log_path.with_suffix(".unfinished"))
    done = set() if restart else journal.finished() & set(students)
    if restart or not done:
        journal.close()
        log_path.write_text("")
    pending = [student for student in students if student not in done]
    print(f"autograding {len(pending)} submissions of {assignment} with {jobs} worker(s) (log: {log_path})"
          + (f"; {len(done)} finished by the interrupted run before" if done else ""), flush=True)
    progress = parallel.Progress(len(students), len(done))
    try:
        # the workers grade the pending students only (the others are excluded by name), each student once
        failed = parallel.grade(course, assignment, everyone, pending, options, jobs, log_path, journal, progress)
    except KeyboardInterrupt:
        print(f"interrupted: the grades saved so far stay; run again to grade the rest ({journal.path})")
        raise
    journal.close()
    for student in failed:
        problems.setdefault(student, f"nbgrader could not grade it: see {log_path}")
    for student, result in scores(course, assignment, students).items():
        score = "-" if result is None else f"{result[0]:g} / {result[1]:g}"
        print(f"  {student:<24} {score:>12}  {problems.get(student, '')}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=ROOT, type=Path)
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the cores, "
                                                               "as far as the memory allows)")
    parser.add_argument("--restart", action="store_true", help="grade everyone, even after an interrupted run")
    parser.add_argument("--student", action="append", help="grade only this student (repeat for more)")
    args, nbgrader_options = parser.parse_known_args(argv)  # e.g. --Execute.timeout=60 goes to nbgrader
    try:
        problems = autograde(args.course, args.assignment, nbgrader_options, args.jobs or parallel.default_jobs(),
                             args.restart, args.student)
    except KeyboardInterrupt:
        return 130
    if problems:
        print(f"{len(problems)} submission(s) not graded: fix or regrade them by hand (see above).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
