"""The course's explanation methods, shared by the notebooks that build on earlier ones.

Notebook 02 compares Grad-CAM with notebook 01's CAM, and notebook 04 puts
notebook 02's Grad-CAM beside attention rollout; both import them from here
instead of re-typing them, and the benchmarks time them. These are the answers of
earlier exercises (coursekit/answers/, a module per assignment), so the checks of
those exercises refuse an answer that only calls them (coursekit.checks.refusing_reference).
A student's release of an assignment ships only the answers of the assignments before
it: the names of the others are then missing here.
"""
import importlib

from coursekit.answers import BY_ASSIGNMENT


def _shipped_answers():
    """{name: object} of the answer modules present (a student's release withholds some)."""
    answers = {}
    for module_name in BY_ASSIGNMENT.values():
        path = f"coursekit.answers.{module_name}"
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as error:
            if error.name != path:  # a real import error inside the module
                raise
            continue
        answers.update({name: getattr(module, name) for name in module.__all__})
    return answers


globals().update(_shipped_answers())
