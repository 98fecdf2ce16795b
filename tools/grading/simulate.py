"""Submissions made from the solution notebooks, for the tests and the class benchmark.

An exercise's answer is its solution cell without the SOLUTION markers; a submission is the
released notebook with some exercise cells replaced; an LMS download is a zip of such
notebooks under Blackboard's file names, as `make collect LMS=...` receives it.
"""
import re
import zipfile
from pathlib import Path

import nbformat

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def solution_notebook(course, assignment):
    return nbformat.read(Path(course) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def reference_answers(course, assignment):
    """grade_id -> the solution cell's source without the SOLUTION markers."""
    return {cell.metadata["nbgrader"]["grade_id"]: SOLUTION_MARKERS.sub("", cell.source)
            for cell in solution_notebook(course, assignment).cells if cell.metadata.get("nbgrader", {}).get("solution")}


def answered(released, answers):
    """A copy of the released notebook (a dict or NotebookNode) whose cells in `answers` (grade_id -> source) are replaced."""
    notebook = nbformat.from_dict(released)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def lms_name(assignment, student, time, notebook=None):
    """Blackboard's name for a submitted file: <assignment>_<student>_attempt_<time>_<the name the student chose>."""
    return f"{assignment}_{student}_attempt_{time}_{notebook or assignment}.ipynb"


def lms_download(path, assignment, files):
    """Write an LMS download: a zip with the files ({name: text}) in a folder named after the assignment."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"{assignment}/{name}", text)
    return path
