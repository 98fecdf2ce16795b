"""A course folder as the grading tools see it: its assignments, and nbgrader run inside it."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from coursekit.paths import COURSE_ROOT as ROOT

# What a student of an assignment gets beside the notebook: its release zip, and all a grading kernel sees
# of the course (minus the answers of that assignment and later ones: release.support_files).
SHIPPED_FILES = ("utils.py", "ImageNet_utils.py", "coursekit", "resources", "requirements.txt")
# What nbgrader and the notebooks need from the course folder (not notebooks/, caches or .git).
COURSE_FILES = (*SHIPPED_FILES, "nbgrader_config.py", "solutions", "tools")
NOT_COURSE_FILES = ("__pycache__", ".ipynb_checkpoints")  # made by Python and Jupyter, never copied or shipped


def assignments(course=ROOT):
    """The assignment names: one folder per assignment under solutions/."""
    return sorted(p.name for p in (Path(course) / "solutions").iterdir() if p.is_dir())


def copy_course(destination):
    """Copy the course into `destination` for a throw-away nbgrader run (tests, benchmarks)."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns(*NOT_COURSE_FILES))
        else:
            shutil.copy2(source, destination / name)
    return destination


def nbgrader(course, *args, **kwargs):
    """Run `nbgrader ARGS` in `course` and wait; keyword arguments go to subprocess.run."""
    command, env = _command(args)
    return subprocess.run(command, cwd=course, env=env, text=True, **kwargs)


def start_nbgrader(course, *args, environment=None, new_session=False):
    """Start `nbgrader ARGS` in `course` (with more `environment` variables, in a new session if asked);
    its output (stderr included) is read from .stdout as text."""
    command, env = _command(args)
    return subprocess.Popen(command, cwd=course, env={**env, **(environment or {})}, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=new_session)


def _command(args):
    """nbgrader run by this Python (started quicker: nbgrader_app.py), with its scripts first on PATH (nbgrader
    runs `alembic` from there). The folder it runs in comes first on its sys.path, as for `python -m nbgrader`;
    this course's folder follows, for nbgrader_app where the folder is not a course (a student's home)."""
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return [sys.executable, "-m", "tools.grading.nbgrader_app", *args], env
