"""The simulated submissions the grading tests grade, each with the exercises it must lose.

EXERCISES is the table to extend for a new assignment: for each exercise (the grade_id of
its solution cell), the cell of a plausible wrong answer and of a constant answer of the
right shape. per_exercise_students() turns it into correct / untouched / constant / wrong
answers in the later exercises; generic_students() adds, on one assignment, every way a
submission can go wrong (loops, memory, cheats, edited tests, broken files ...).

A student's expected score per test cell is the cell's points unless the cell tests an
exercise the student must lose (a test cell belongs to the solution cell above it).
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

from course_copy import ROOT
from tools.grading import simulate


@dataclass(frozen=True)
class Exercise:
    wrong: str                         # the solution cell of a plausible wrong answer
    constant: str                      # the solution cell of a constant answer of the right shape
    also_loses: frozenset = frozenset()  # later exercises that call this one, and fail with it


def solution_notebook(assignment):
    return simulate.solution_notebook(ROOT, assignment)


def reference_answers(assignment):
    """grade_id -> the solution cell's source without the SOLUTION markers."""
    return simulate.reference_answers(ROOT, assignment)


def edited(assignment, grade_id, old, new):
    """The reference answer with `old` replaced by `new` (which must be there: the table follows the notebook)."""
    source = reference_answers(assignment)[grade_id]
    assert old in source, f"{assignment}/{grade_id}: {old!r} is no longer in the reference answer; update EXERCISES"
    return source.replace(old, new)


EXERCISES = {
    "01_cam": {
        "compute_cam": Exercise(
            wrong='''
def compute_cam(model, image_tensor, target_class):
    # Wrong: ReLU applied to the map (as in Grad-CAM); the CAM is the raw weighted sum.
    features = []
    handle = model.layer4.register_forward_hook(lambda module, inputs, output: features.append(output.detach()))
    try:
        with torch.no_grad():
            model(image_tensor)
    finally:
        handle.remove()
    return torch.relu(torch.einsum("k,khw->hw", model.fc.weight[target_class].detach(), features[0][0]))
''',
            constant='''
def compute_cam(model, image_tensor, target_class):
    return torch.zeros(7, 7)
'''),
        "top_class_cams": Exercise(
            wrong='''
def top_class_cams(model, image_tensor, k=3):
    # Wrong: the CAMs use fc rows 0..k-1 instead of the rows of the top classes.
    with capture_outputs({"layer4": model.layer4}) as outputs:
        with torch.no_grad():
            class_scores = model(image_tensor)[0]
    classes = class_scores.topk(k).indices.tolist()
    cams = torch.einsum("ck,khw->chw", model.fc.weight.detach()[:k], outputs["layer4"][0])
    return classes, cams
''',
            constant='''
def top_class_cams(model, image_tensor, k=3):
    return list(range(k)), torch.zeros(k, 7, 7)
'''),
    },
    "02_gradcam": {
        "gradcam_class": Exercise(
            wrong=edited("02_gradcam", "gradcam_class",  # the probability after softmax, not the score
                         "score = self.model(x)[0, target_class]", "score = self.model(x).softmax(dim=1)[0, target_class]"),
            constant='''
class GradCAM:
    def __init__(self, model, target_layer=None):
        self.model = model
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.remove()
    def remove(self):
        pass
    def __call__(self, x, target_class):
        return torch.zeros(7, 7)
''',
            also_loses=frozenset(["gradcams_at_layers", "gradcams_for_classes", "gradcam_vs_cam"])),
        "gradcams_at_layers": Exercise(
            wrong=edited("02_gradcam", "gradcams_at_layers",  # the default layer every time
                         "GradCAM(model, layer)", "GradCAM(model)"),
            constant='''
def gradcams_at_layers(model, image_tensor, target_class, layers):
    return {name: torch.zeros(7, 7) for name in layers}
'''),
        "gradcams_for_classes": Exercise(
            wrong=edited("02_gradcam", "gradcams_for_classes",  # the first class every time
                         "cam(image_tensor, target_class) for target_class in classes",
                         "cam(image_tensor, classes[0]) for target_class in classes"),
            constant='''
def gradcams_for_classes(model, image_tensor, classes, target_layer=None):
    return torch.zeros(len(classes), 7, 7)
'''),
        "gradcam_vs_cam": Exercise(
            wrong=edited("02_gradcam", "gradcam_vs_cam", "torch.relu(class_map) / class_map.numel()",
                         "class_map / class_map.numel()"),  # ReLU forgotten
            constant='''
def gradcam_vs_cam(model, image_tensor, target_class):
    return torch.zeros(7, 7), torch.zeros(7, 7)
'''),
    },
    "03_vit_attention": {
        "obtain_attention_maps": Exercise(
            wrong=edited("03_vit_attention", "obtain_attention_maps",  # the CLS column, not its row
                         "fused[0, 1:]", "fused[1:, 0]"),
            constant='''
def obtain_attention_maps(attentions, patch_size=16):
    num_grid = 224 // patch_size
    return [torch.full((num_grid, num_grid), 1 / num_grid ** 2) for _ in attentions]
'''),
        "attention_entropies": Exercise(
            wrong=edited("03_vit_attention", "attention_entropies", "-torch.xlogy(p, p).sum()",
                         "-torch.xlogy(p, p).sum() / torch.log(torch.tensor(2.0))"),  # bits, not nats
            constant='''
def attention_entropies(attention_maps):
    return torch.zeros(len(attention_maps)), 0
'''),
    },
    "04_attention_rollout": {
        "add_identity_and_normalise": Exercise(
            wrong=edited("04_attention_rollout", "add_identity_and_normalise", "sum(dim=-1, keepdim=True)",
                         "sum(dim=-1)"),  # divides columns, as a widely copied implementation does
            constant='''
def add_identity_and_normalise(fused):
    return torch.full_like(fused, 1 / fused.shape[-1])
''',
            also_loses=frozenset(["compute_attention_rollout"])),
        "compute_attention_rollout": Exercise(
            wrong=edited("04_attention_rollout", "compute_attention_rollout",  # the product in the wrong order
                         "add_identity_and_normalise(fused) @ rollout", "rollout @ add_identity_and_normalise(fused)"),
            constant='''
def compute_attention_rollout(attentions, discard_ratio=0.0, head_fusion="mean"):
    side = math.isqrt(attentions[0].shape[-1] - 1)
    return torch.full((side, side), 1 / side ** 2)
'''),
    },
    "05_trust": {
        "average_ranks": Exercise(
            wrong=edited("05_trust", "average_ranks",  # ordinal ranks: equal entries get different ranks, not their mean
                         "ranks = (smaller + 1 + smaller_or_equal).double() / 2",
                         "ranks = values.argsort().argsort().double() + 1"),
            constant='''
def average_ranks(values):
    return torch.arange(1, len(values) + 1, dtype=torch.float64)
''',
            also_loses=frozenset(["spearman_rank_correlation"])),
        "spearman_rank_correlation": Exercise(
            wrong=edited("05_trust", "spearman_rank_correlation",  # the textbook formula: exact only without ties
                         "rho = float((centred_a * centred_b).sum() / spread)",
                         "rho = float(1 - 6 * ((ranks_a - ranks_b) ** 2).sum() / (len(ranks_a) ** 3 - len(ranks_a)))"),
            constant='''
def spearman_rank_correlation(map_a, map_b):
    return 0.0
'''),
        "cascading_randomization": Exercise(
            wrong=edited("05_trust", "cascading_randomization",  # not cumulative: a fresh copy at every step
                         "        torch.manual_seed(seed + step)\n",
                         "        randomised = copy.deepcopy(model)\n        torch.manual_seed(seed + step)\n"),
            constant='''
def cascading_randomization(model, layer_names, explain, seed=0):
    return {name: explain(model) for name in ["original", *layer_names]}
'''),
        "replacement_curve": Exercise(
            wrong=edited("05_trust", "replacement_curve",  # the least salient pixels first
                         "argsort(descending=True, stable=True)", "argsort(descending=False, stable=True)"),
            constant='''
def replacement_curve(model, image, replacement, saliency, target_class, steps=16):
    if tuple(saliency.shape) != tuple(image.shape[-2:]):
        raise ValueError("saliency must be (H, W)")
    return torch.full((steps + 1,), 0.25)
'''),
        "area_under_curve": Exercise(
            wrong=edited("05_trust", "area_under_curve",  # the rectangle rule: the mean of the points
                         "area = float((scores[:-1] + scores[1:]).sum() / (2 * steps))", "area = float(scores.mean())"),
            constant='''
def area_under_curve(scores):
    if len(scores) < 2:
        raise ValueError("a curve needs at least two points")
    return 0.5
'''),
    },
}

GENERIC_ASSIGNMENT = "01_cam"


@dataclass
class Student:
    """A submission: exercise cells replaced, an optional edit of the whole notebook, what it must lose."""
    name: str
    answers: dict = field(default_factory=dict)          # solution grade_id -> cell source
    loses: frozenset = frozenset()                        # exercises (solution grade_ids) scoring 0
    edit: Optional[Callable] = None                       # notebook -> notebook, after the answers
    reference: bool = True                                # other exercises get the reference answer
    raw: Optional[str] = None                             # the file's text, instead of a notebook
    extra_files: dict = field(default_factory=dict)       # other files submitted beside the notebook
    earlier: Optional["Student"] = None                   # a first attempt, in an earlier LMS download
    notebook_name: Optional[str] = None                   # the name the student saved the notebook under
    defence: Optional[str] = None                         # the grader option that, when off, lets this attack win
    loses_without_defence: frozenset = frozenset()        # what it loses with that option off (nothing: it wins)

    @property
    def gradable(self):
        """Whether nbgrader can grade it at all (a valid notebook under the released name)."""
        return self.raw is None and self.notebook_name is None

    @property
    def id(self):
        """The student id: the name without underscores, which the LMS file names use as separators."""
        return self.name.replace("_", "-")


def graded_cells(assignment):
    """{test grade_id: (points, exercise grade_id)}: each test cell belongs to the solution cell above it."""
    cells, exercise = {}, None
    for cell in solution_notebook(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            exercise = meta["grade_id"]
        elif meta.get("grade"):
            cells[meta["grade_id"]] = (float(meta["points"]), exercise)
    return cells


def expected_scores(assignment, student):
    """{test grade_id: expected points} for a student."""
    return {grade_id: 0.0 if exercise in student.loses else points
            for grade_id, (points, exercise) in graded_cells(assignment).items()}


def submission(released, assignment, student):
    """The student's notebook (a NotebookNode) or raw text, built from the released notebook."""
    if student.raw is not None:
        return student.raw
    notebook = simulate.answered(released, {**(reference_answers(assignment) if student.reference else {}),
                                            **student.answers})
    return student.edit(notebook) if student.edit else notebook


def later_exercises(assignment):
    """The later half of an assignment's exercises (the middle one too, when there is an odd number)."""
    table = list(EXERCISES[assignment])
    return table[len(table) // 2:]


def per_exercise_students(assignment):
    """Correct, untouched, constant everywhere, and plausible wrong answers in the later half of the exercises.

    The wrong row mixes right and wrong exercises, so that grading it shows each verdict reaching its own cells;
    that each wrong answer fails its exercise's tests (and those of the later exercises that call it) and no
    other is shown exercise by exercise by tests/test_hidden_tests.py, which judges as the grader does.
    """
    table = EXERCISES[assignment]
    every = frozenset(table)
    later = later_exercises(assignment)
    return [
        Student("correct"),
        Student("untouched", reference=False, loses=every),
        Student("constant", answers={e: table[e].constant for e in table}, loses=every),
        Student("wrong_later", answers={e: table[e].wrong for e in later},
                loses=frozenset(later).union(*(table[e].also_loses for e in later))),
    ]


def _replace_test_cells(notebook, deleted=(), edited=None):
    """Delete the test cells named in `deleted`; give the cells in `edited` (grade_id -> source) new code."""
    edited = edited or {}
    notebook.cells = [cell for cell in notebook.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") not in deleted]
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in edited:
            cell.source = edited[grade_id]
    return notebook


def _with_prefix(assignment, grade_id, prefix):
    return {grade_id: prefix + reference_answers(assignment)[grade_id]}


NOISY_WRAPPER = '''
_reference_{name} = {name}
def {name}(*args, **kwargs):
    import sys, warnings
    warnings.warn("a library's deprecation warning", UserWarning)
    print("progress: 100%|##########| 1/1", file=sys.stderr)
    print("\\n".join(get_ipython().user_ns["In"]))   # every cell run so far, hidden tests included
    return _reference_{name}(*args, **kwargs)
'''

DEFINITION_CHEAT = '''
import coursekit.checks_cam
coursekit.checks_cam.check_compute_cam = lambda function: print("all checks passed")
float = lambda *args, **kwargs: 0.0
torch.allclose = lambda *args, **kwargs: True
'''

CALL_TIME_CHEAT = '''
import coursekit.checks, coursekit.checks_cam
_wrong_top_class_cams = top_class_cams
def top_class_cams(*args, **kwargs):
    coursekit.checks.expect_close = lambda *args, **kwargs: None
    coursekit.checks_cam._expect_logit_identity = lambda *args, **kwargs: None
    torch.Tensor.abs = lambda self: torch.zeros(())
    return _wrong_top_class_cams(*args, **kwargs)
'''

SHADOW_MODULE = 'raise RuntimeError("a submitted file shadowing a course or library module was imported")\n'

# Attacks on the verdict itself (issue: "Grading that cannot be fooled"). Each defines a constant compute_cam
# after it, so that it scores only if the attack forges, hides or reads the outcome of compute_cam's test.
FORGE_BY_DISPLAYHOOK = '''
_shell = get_ipython()
_shell.events.register("pre_run_cell", lambda info: _shell.displayhook("full marks"))  # the first execute_result
'''

FORGE_BY_CUSTOM_EXCEPTION = '''
_shell = get_ipython()
_shell.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)


def _no_error(result):
    result.error_in_exec = result.error_before_exec = None


_shell.events.register("post_run_cell", _no_error)
'''

FORGE_BY_AST_TRANSFORMER = '''
import ast


class _SwallowErrors(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        wrapped = ast.Module(body=[ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[],
                                           finalbody=[])], type_ignores=[])
        return ast.fix_missing_locations(wrapped)


get_ipython().ast_transformers.append(_SwallowErrors())
'''

LYING_MODE_CLASS = '''
from torch.overrides import TorchFunctionMode


class _EverythingClose(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.__float__:
            return 0.0
        if func is torch.Tensor.__int__:
            return 0
        if func is torch.Tensor.__bool__:
            return False
        return func(*args, **(kwargs or {}))
'''
LYING_TORCH_MODE = LYING_MODE_CLASS + "\n_EverythingClose().__enter__()  # left active for every later cell\n"

LYING_TENSOR = '''
class _Agreeable(torch.Tensor):
    def __float__(self):
        return 0.0
    def __int__(self):
        return 0
    def __bool__(self):
        return False


def compute_cam(model, image_tensor, target_class):
    return torch.zeros(7, 7).as_subclass(_Agreeable)
'''

READS_THE_EXPECTED_ANSWER = '''
import sys


def compute_cam(model, image_tensor, target_class):
    """Return what the test expects, found in a caller's variables (wherever the test computed it)."""
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            if isinstance(value, dict) and f"cam[{target_class}]" in value:
                return torch.as_tensor(value[f"cam[{target_class}]"].reference)
        frame = frame.f_back
    return torch.zeros(7, 7)
'''

CALLS_THE_SHIPPED_ANSWER = '''
import importlib

_answer = [importlib.import_module("coursekit.answers.cam").compute_cam]  # an indirection a name check misses


def compute_cam(model, image_tensor, target_class):
    return _answer[0](model, image_tensor, target_class)
'''

PATCHES_THE_TEST_MACHINERY = '''
import coursekit.probes
try:
    import tools.grading.hidden
    tools.grading.hidden.judge = lambda grade_id, expected, records: []  # the judge, where it runs in this kernel
except ImportError:
    pass
coursekit.probes.records = lambda grade_id, challenge, functions: []  # no result is ever published
'''

MAPS_SHARED_MEMORY = '''
import mmap
_shared = mmap.mmap(-1, 7 * 2**30)  # anonymous and shared: a data-memory limit does not count it
_shared[::2**20] = b"x" * (7 * 2**10)
'''

FILLS_ITS_CONNECTION_FOLDER = '''
import os
from ipykernel.connect import get_connection_file
_folder = os.path.dirname(get_connection_file())  # where the kernel's connection file and sockets are
os.makedirs(os.path.join(_folder, "locked"), exist_ok=True)
for _i in range(75):
    with open(os.path.join(_folder, "locked", f"fill{_i}"), "wb") as _file:
        _file.write(b"x" * 4 * 2**20)  # 300 MB in all
os.chmod(os.path.join(_folder, "locked"), 0)
'''

HUGE_OUTPUT = '''
print("x" * 40_000_000)  # one line of 40 MB
'''

READS_A_TOKEN = '''
import os
for _variable in ("HF_HOME", "TORCH_HOME"):
    _path = os.path.join(os.environ.get(_variable, "/nonexistent"), "token")
    print(_path, open(_path).read() if os.path.exists(_path) else "not there")
'''

MARKER_TEXT = "# ### BEGIN HIDDEN TESTS (just text in a comment)\n"
# An LMS name whose part the student chose imitates another student's latest attempt (or names "..").
SPOOFED_NAME = "01_cam_correct_attempt_2099-12-31-23-59-59_01_cam"  # the student "correct" is the victim
DOTDOT_NAME = "x_.._attempt_2099-12-31-23-59-59_01_cam"  # a greedy pattern reads the id ".."


def generic_students():
    """Every other behaviour, on GENERIC_ASSIGNMENT (01_cam: exercises compute_cam and top_class_cams)."""
    a, table = GENERIC_ASSIGNMENT, EXERCISES[GENERIC_ASSIGNMENT]
    return [
        Student("noisy", answers={e: reference_answers(a)[e] + NOISY_WRAPPER.format(name=e) for e in table},
                defence="host_verdict", loses_without_defence=frozenset(table)),  # stderr in a test cell scores 0
        Student("loop", answers=_with_prefix(a, "compute_cam", "while True:\n    pass\n"),
                loses=frozenset(["compute_cam"])),
        Student("memory", answers=_with_prefix(a, "compute_cam", "_big = torch.ones(2_000_000_000)  # 8 GB\n"),
                loses=frozenset(["compute_cam"])),
        Student("exception", answers={"top_class_cams": edited(a, "top_class_cams", 'outputs["layer4"][0]',
                                                               'outputs["layer4"][1]')},  # IndexError
                loses=frozenset(["top_class_cams"])),
        Student("tampered_tests", answers={"top_class_cams": table["top_class_cams"].wrong},
                edit=lambda nb: _replace_test_cells(nb, deleted={"compute_cam_hidden", "top_class_cams_hidden"},
                                                    edited={"top_class_cams_visible": "pass"}),
                loses=frozenset(["top_class_cams"])),
        Student("cheat_definition", answers={"compute_cam": DEFINITION_CHEAT + table["compute_cam"].constant},
                loses=frozenset(["compute_cam"])),
        Student("cheat_call_time", answers={"top_class_cams": table["top_class_cams"].wrong + CALL_TIME_CHEAT},
                loses=frozenset(["top_class_cams"])),
        Student("renamed", notebook_name="01_cam (1)", loses=frozenset(table)),
        Student("broken_json", raw='{"cells": [{"cell_type": "code", "source": "x = 1"', loses=frozenset(table)),
        Student("shadowing", extra_files={"utils.py": SHADOW_MODULE, "torch.py": SHADOW_MODULE,
                                          "coursekit/__init__.py": SHADOW_MODULE}),
        Student("resubmitted", earlier=Student("resubmitted", reference=False)),
        *attack_students(),
    ]


def _attack(name, code, defence, constant=True, **kwargs):
    """A student whose compute_cam cell holds the attack (then a constant answer, unless the code defines one)."""
    answer = code + (EXERCISES[GENERIC_ASSIGNMENT]["compute_cam"].constant if constant else "")
    return Student(name, answers={"compute_cam": answer}, defence=defence, **{"loses": frozenset(["compute_cam"]),
                                                                                 **kwargs})


def attack_students():
    """The attacks a red team ran on the verdict and on the grading host, each with the defence that stops it."""
    a, table = GENERIC_ASSIGNMENT, EXERCISES[GENERIC_ASSIGNMENT]
    correct = reference_answers(a)["compute_cam"]
    return [
        _attack("forge_displayhook", FORGE_BY_DISPLAYHOOK, "host_verdict"),
        _attack("forge_custom_exc", FORGE_BY_CUSTOM_EXCEPTION, "host_verdict"),
        _attack("forge_ast", FORGE_BY_AST_TRANSFORMER, "host_verdict"),
        _attack("lying_torch_mode", LYING_TORCH_MODE, None),
        _attack("lying_tensor", LYING_TENSOR, None, constant=False),
        _attack("reads_expected", READS_THE_EXPECTED_ANSWER, "host_verdict", constant=False),
        _attack("calls_answer", CALLS_THE_SHIPPED_ANSWER, "withhold_answers", constant=False),
        _attack("patches_tests", PATCHES_THE_TEST_MACHINERY, "host_verdict", loses=frozenset(table)),
        _attack("shared_memory", MAPS_SHARED_MEMORY + correct, "count_shared_memory", constant=False),
        _attack("fills_tmp", FILLS_ITS_CONNECTION_FOLDER + correct, "tmp_size", constant=False),
        Student("huge_output", answers={"compute_cam": HUGE_OUTPUT + correct}, defence="output_limit"),
        Student("reads_token", answers={"compute_cam": READS_A_TOKEN + correct}),
        Student("marker_text", answers={"compute_cam": MARKER_TEXT + correct}),
        Student("spoofer", notebook_name=SPOOFED_NAME, answers={e: table[e].constant for e in table},
                loses=frozenset(table)),
        Student("dotdot", notebook_name=DOTDOT_NAME, answers={e: table[e].constant for e in table},
                loses=frozenset(table)),
    ]
