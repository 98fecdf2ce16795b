"""The instructor's Makefile targets, run as the README says, on one assignment in a copy of the course.

release (zips and an exchange) -> collect (an LMS download, then the exchange) -> autograde ->
feedback -> export, with three students: alice (reference answers) and bob (the untouched
notebook) from the LMS, and a third student (reference answers) who fetches and submits through the
exchange: nbgrader's exchange names a student by the operating system's user name, so that one
is this machine's user.
"""
import csv
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.dbutil import write_alembic_ini
from nbgrader.plugins import FileNameCollectorPlugin
from nbgrader.utils import get_username, parse_utc
from traitlets.config import Config

from course_copy import ROOT, copy_course
from submissions import Student, submission
from tools.grading import course as course_tools
from tools.grading import simulate
from tools.grading.collect import LMS_PATTERN, LmsFileNameCollector, safe_student_id

ASSIGNMENT = "01_cam"
STUDENTS = {"alice": Student("alice"), "bob": Student("bob", reference=False)}
EXCHANGE_STUDENT = get_username()


def make(course, *arguments):
    """Run a Makefile target in `course` with this Python's environment (no .venv to install)."""
    command = ["make", "--no-print-directory", "-C", str(course), "-o", ".venv/.grading-installed",
               "-o", ".venv/.course-installed", f"BIN={Path(sys.executable).parent}", *arguments]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = copy_course(tmp_path_factory.mktemp("course"))
    shutil.copy2(ROOT / "Makefile", folder / "Makefile")
    for other in (folder / "solutions").iterdir():
        if other.name != ASSIGNMENT:
            shutil.rmtree(other)
    return folder


@pytest.fixture(scope="module")
def released(course, tmp_path_factory):
    exchange = tmp_path_factory.mktemp("exchange")
    first = make(course, "release")
    zip_bytes = (course / "release_zips" / f"{ASSIGNMENT}.zip").read_bytes()
    second = make(course, "release", f"EXCHANGE={exchange}")
    return first, second, zip_bytes, exchange


def submit_through_the_exchange(exchange, home, student):
    """A JupyterHub student: fetch the assignment, answer it, submit it (nbgrader's student commands)."""
    def student_nbgrader(*args):
        result = course_tools.nbgrader(home, *args, "--course=xai-course", f"--Exchange.root={exchange}",
                                       capture_output=True)
        assert result.returncode == 0, result.stdout + result.stderr
    student_nbgrader("fetch_assignment", ASSIGNMENT)
    path = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.write(submission(nbformat.read(path, as_version=4), ASSIGNMENT, student), path)
    student_nbgrader("submit", ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(course, released, tmp_path_factory):
    notebook = nbformat.read(course / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    download = simulate.lms_download(tmp_path_factory.mktemp("lms") / "download.zip", ASSIGNMENT, {
        simulate.lms_name(ASSIGNMENT, name, "2024-03-01-10-00-00"): nbformat.writes(submission(notebook, ASSIGNMENT, student))
        for name, student in STUDENTS.items()})
    exchange = released[3]
    submit_through_the_exchange(exchange, tmp_path_factory.mktemp("home"), Student(EXCHANGE_STUDENT))
    return [make(course, *target) for target in (["collect", f"A={ASSIGNMENT}", f"LMS={download}"],
                                                  ["collect", f"A={ASSIGNMENT}", f"EXCHANGE={exchange}"],
                                                  ["autograde", f"A={ASSIGNMENT}"], ["feedback", f"A={ASSIGNMENT}"],
                                                  ["export"])]


def test_release_writes_one_self_contained_zip_per_assignment(course, released):
    first, second, zip_bytes, _ = released
    assert first.returncode == 0 and second.returncode == 0, first.stdout + first.stderr + second.stderr
    path = course / "release_zips" / f"{ASSIGNMENT}.zip"
    assert path.read_bytes() == zip_bytes, "the zip differs from one release to the next"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        texts = [archive.read(name).decode("utf-8", "replace") for name in names]
    top = f"{ASSIGNMENT}/"
    assert f"{top}notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names
    shipped = ("utils.py", "ImageNet_utils.py", "requirements.txt", "coursekit/checks.py")
    assert {f"{top}{name}" for name in shipped} <= set(names)
    assert any(name.startswith(f"{top}resources/") for name in names)
    assert not [name for name in names if "solutions" in name or "__pycache__" in name]
    assert not [text for text in texts if "BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text]


def test_release_publishes_to_the_exchange_when_asked(released):
    exchange = released[3]
    assert (exchange / "xai-course" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_collect_autograde_feedback_export_run_in_turn(course, graded):
    for result in graded:
        assert result.returncode == 0, result.stdout + result.stderr
    from_lms, from_exchange, autograded, _, _ = graded
    assert "2 submissions" in from_lms.stdout and "3 submissions" in from_exchange.stdout
    everyone = ("alice", "bob", EXCHANGE_STUDENT)
    progress = re.findall(r"^\[(\d)/3\] (\S+)  \(elapsed \d+:\d\d, about \d+:\d\d left\)$", autograded.stdout, re.MULTILINE)
    assert sorted(number for number, _ in progress) == ["1", "2", "3"], autograded.stdout
    assert sorted(name for _, name in progress) == sorted(everyone), autograded.stdout
    for name in everyone:
        assert (course / "feedback" / name / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(handle)}
    assert scores == {"alice": (10.0, 10.0), "bob": (0.0, 10.0), EXCHANGE_STUDENT: (10.0, 10.0)}


def test_nbgrader_starts_without_the_iri_parser_and_still_checks_notebooks(tmp_path):
    """nbgrader_app leaves out rfc3987_syntax (half of nbgrader's start): jsonschema still validates a notebook."""
    check = ("import sys, tools.grading.nbgrader_app, nbformat; assert sys.modules['rfc3987_syntax'] is None; "
             "nbformat.validate(nbformat.v4.new_notebook())\n"
             "try:\n    nbformat.validate({'cells': 1})\nexcept nbformat.ValidationError:\n    print('refused')")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "refused", result.stdout + result.stderr
    version = course_tools.nbgrader(tmp_path, "--version", capture_output=True)   # from a folder that is no course
    assert version.returncode == 0 and "nbgrader version" in version.stdout, version.stdout + version.stderr


def test_feedback_starts_without_torch():
    """`make feedback` runs nbgrader with the course's feedback preprocessor: importing it must not import torch
    (seconds in every feedback run), as it did through the verdict module."""
    check = "import sys, tools.grading.feedback; print(sorted({'torch', 'torchvision'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_new_gradebook_gets_the_schema_version_alembic_gives_without_an_alembic_process(tmp_path):
    """nbgrader asks a new `alembic` process for the revision it stamps on a new gradebook; nbgrader_app reads the
    same revision in its own process (an `alembic` that fails, first on PATH, is never run)."""
    with_alembic = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    ini = tmp_path / "alembic.ini"
    write_alembic_ini(str(ini), f"sqlite:///{tmp_path / 'unused.db'}")
    head = subprocess.run(["alembic", "-c", str(ini), "heads"], env=with_alembic, capture_output=True, text=True,
                          check=True).stdout.split()[0]
    failing = tmp_path / "bin"
    failing.mkdir()
    (failing / "alembic").write_text(f"#!/bin/sh\ntouch {tmp_path / 'alembic_ran'}\nexit 1\n")
    (failing / "alembic").chmod(0o755)
    course = tmp_path / "course"
    course.mkdir()
    result = subprocess.run([sys.executable, "-m", "tools.grading.nbgrader_app", "db", "student", "add", "someone"],
                            cwd=course, capture_output=True, text=True,
                            env={**with_alembic, "PATH": f"{failing}{os.pathsep}{with_alembic['PATH']}",
                                 "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "alembic_ran").exists()
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


def test_targets_that_need_an_assignment_say_so(course):
    result = make(course, "autograde")
    assert result.returncode != 0 and f"usage: make autograde A=<assignment>, one of: {ASSIGNMENT}" in result.stdout


def test_attempt_times_from_the_lms_are_read_as_written():
    """nbgrader's own collector reads 09:30:05 as 14:00 and 09:45:00 as 09:00, keeping the earlier attempt."""
    config = Config()
    config.FileNameCollectorPlugin.named_regexp = \
        r".*_(?P<student_id>[^_/]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>[^/]+)\.ipynb$"
    names = [f"/x/01_cam_alice_attempt_2024-03-01-09-{t}_01_cam.ipynb" for t in ("30-05", "45-00")]

    def times(collector):
        return [parse_utc(collector(config=config).collect(name)["timestamp"]) for name in names]
    assert times(FileNameCollectorPlugin)[0] > times(FileNameCollectorPlugin)[1]
    assert [str(t) for t in times(LmsFileNameCollector)] == ["2024-03-01 09:30:05", "2024-03-01 09:45:00"]



def _collected(name, pattern=LMS_PATTERN, **settings):
    config = Config()
    config.FileNameCollectorPlugin.named_regexp = pattern
    config.LmsFileNameCollector.update(settings)
    return LmsFileNameCollector(config=config).collect(f"/download/extracted/{ASSIGNMENT}/{name}")


def test_the_name_a_student_chose_cannot_make_the_file_anothers():
    spoofed = f"{ASSIGNMENT}_mallory_attempt_2024-03-01-10-00-00_{ASSIGNMENT}_alice_attempt_2099-12-31-23-59-59_x.ipynb"
    assert _collected(spoofed)["student_id"] == "mallory"
    assert _collected(spoofed)["timestamp"] == "2024-03-01 10:00:00"
    dotdot = f"{ASSIGNMENT}_mallory_attempt_2024-03-01-10-00-00_.._attempt_2099-12-31-23-59-59_{ASSIGNMENT}.ipynb"
    assert _collected(dotdot)["student_id"] == "mallory"


@pytest.mark.parametrize("student_id", ["..", "."])
def test_ids_that_are_not_plain_names_are_refused_whatever_the_pattern(student_id):
    anything_before = r"^(?P<student_id>[^_]*)_attempt_(?P<timestamp>[0-9-]+)_(?P<file_id>.+)\.ipynb$"
    name = f"{student_id}_attempt_2024-03-01-10-00-00_{ASSIGNMENT}.ipynb"
    assert _collected(name, anything_before) is None
    assert _collected(name, anything_before, check_student_ids=False)["student_id"] == student_id


def test_plain_names_are_ids_and_paths_are_not():
    assert all(safe_student_id(i) for i in ("alice", "alice.kim-2", "s1234@uni"))
    assert not any(safe_student_id(i) for i in ("", ".", "..", "a/b", "a\\b", "a\0b", None))
