"""The grading sandbox and the test-cell guard on their own (tools/grading/sandbox.py, guard.py).

The sandbox tests run a small Python program in it, as the grading kernel runs, in a fake
course that holds everything student code must not see. The guard tests drive it as the
kernel does, before and after cells, on the modules of this test process (restored after).
"""
import os
import signal
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

import coursekit.checks
import coursekit.checks_cam
from course_copy import ROOT
from tools.grading import guard, sandbox

MiB = 2**20


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with one student's notebook folder, and secrets all around it."""
    root = tmp_path_factory.mktemp("course")
    for name in ("utils.py", "ImageNet_utils.py", "coursekit/__init__.py", "resources/cat.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("shared")
    for name in ("solutions/01_cam/01_cam.ipynb", "gradebook.db", ".nbgrader.log", ".git/HEAD",
                 "submitted/bob/01_cam/01_cam.ipynb", "autograded/bob/01_cam/01_cam.ipynb",
                 "autograded/alice/01_cam/utils.py", "autograded/alice/01_cam/01_cam.ipynb"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("secret")
    (root / "autograded/alice/01_cam/data.csv").write_text("shipped with the assignment")
    (root.parent / "beside_the_course.txt").write_text("secret")
    return root


def run(course, code, memory=2048 * MiB, cpu=60):
    """Run Python `code` in the sandbox of alice's notebook folder, as the grading kernel runs."""
    command = sandbox.sandboxed([sys.executable, "-c", code], course / "autograded/alice/01_cam", ["data.csv"])
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: sandbox.limit_resources(memory, cpu))


def test_student_code_sees_only_the_shared_course_files_and_the_assignment_files(course):
    secrets = [course / p for p in ("solutions", "gradebook.db", ".nbgrader.log", ".git", "submitted",
                                    "autograded/bob", "autograded/alice/01_cam/utils.py",
                                    "autograded/alice/01_cam/01_cam.ipynb")]
    secrets += [ROOT / "solutions", ROOT / ".git", ROOT / "tests", course.parent / "beside_the_course.txt"]
    result = run(course, f"""
import os
print(sorted(os.listdir({str(course)!r})))
print(sorted(os.listdir('.')), open('data.csv').read(), open({str(course / 'utils.py')!r}).read())
print([p for p in {[str(p) for p in secrets]!r} if os.path.exists(p)])
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        str(sorted(["ImageNet_utils.py", "autograded", "coursekit", "resources", "utils.py"])),
        "['data.csv'] shipped with the assignment shared", "[]"]


def test_student_code_changes_no_file_on_disk(course):
    """The course files are read-only; anything else it writes (in /tmp) is gone with the sandbox."""
    targets = ["data.csv", str(course / "utils.py"), str(course / "new.txt")]
    result = run(course, f"""
open('/tmp/scratch', 'w').write('ok')
for path in {targets!r}:
    try:
        open(path, 'w').write('changed')
        print('wrote', path)
    except OSError as error:
        print(type(error).__name__)
""")
    assert result.stdout.split()[:2] == ["OSError"] * 2, result.stdout + result.stderr
    assert (course / "utils.py").read_text() == "shared" and not (course / "new.txt").exists()


def test_student_code_has_no_network_even_to_this_machine(course):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        result = run(course, f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=5)
    print('connected')
except OSError as error:
    print(type(error).__name__)
""")
    assert result.stdout.strip() == "ConnectionRefusedError", result.stdout + result.stderr


def test_student_code_gets_a_cleared_environment_and_its_own_processes(course, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_TOKEN", "secret")
    result = run(course, f"""
import os
print('INSTRUCTOR_TOKEN' in os.environ, os.path.exists('/proc/{os.getpid()}'), os.getuid())
""")
    assert result.stdout.split() == ["False", "False", "1000"], result.stdout + result.stderr


def test_a_large_allocation_fails_in_the_sandbox_only(course):
    result = run(course, "import torch\ntry:\n    torch.ones(2**30)\nexcept RuntimeError:\n    print('refused')",
                 memory=1024 * MiB)
    assert result.stdout.strip() == "refused", result.stdout + result.stderr


def test_an_endless_computation_is_stopped_by_the_cpu_limit(course):
    result = run(course, "while True:\n    pass", cpu=2)
    assert result.returncode == 128 + signal.SIGXCPU, f"exit {result.returncode}: {result.stderr}"  # as bwrap reports it


class Shell:
    """What the guard uses of IPython's shell."""

    def __init__(self):
        self.user_ns = {"In": [], "exit": object()}


TEST_CELL = "check(answer)"


@pytest.fixture
def guarded():
    course_modules = ["coursekit.checks", "coursekit.checks_cam"]
    instance = guard.Guard(Shell(), [guard.cell_hash(TEST_CELL)], ["builtins", "torch", *course_modules],
                           course_modules)
    yield instance
    instance.restore()


def cell(source):
    return SimpleNamespace(raw_cell=source)


def test_guard_restores_helpers_replaced_before_a_test_cell(guarded):
    allclose, expected = torch.allclose, coursekit.checks_cam.TINY_CAMS.clone()
    torch.allclose = lambda *args, **kwargs: True
    coursekit.checks.expect_close.__code__ = (lambda *args, **kwargs: None).__code__
    coursekit.checks_cam.TINY_CAMS.zero_()
    guarded.before_cell(cell("x = 1"))
    assert torch.allclose is not allclose, "an ordinary cell is left alone"
    guarded.before_cell(cell(TEST_CELL))
    assert torch.allclose is allclose and torch.equal(coursekit.checks_cam.TINY_CAMS, expected)
    with pytest.raises(AssertionError):
        coursekit.checks.expect_close(torch.zeros(1), torch.ones(1), "x")
    guarded.after_cell(None)


def test_guard_hides_globals_that_shadow_builtins_during_a_test_cell(guarded):
    user_ns = guarded.shell.user_ns
    user_ns["float"] = lambda *args: 0.0
    guarded.before_cell(cell(TEST_CELL))
    assert "float" not in user_ns and "exit" in user_ns
    guarded.after_cell(None)
    assert user_ns["float"]() == 0.0


def test_guard_fails_a_test_cell_during_which_helpers_were_replaced(guarded):
    guarded.before_cell(cell(TEST_CELL))
    torch.Tensor.abs = lambda self: torch.zeros(())
    torch.allclose = lambda *args, **kwargs: True
    with pytest.raises(AssertionError, match="torch.allclose"):
        guarded.after_cell(None)
    assert "abs" not in vars(torch.Tensor) and not torch.allclose(torch.zeros(1), torch.ones(1))


def test_guard_accepts_what_libraries_change_by_themselves(guarded):
    guarded.before_cell(cell(TEST_CELL))
    handle = torch.nn.Linear(1, 1).register_forward_hook(lambda *args: None)  # a class counter moves
    handle.remove()
    torch.manual_seed(0)
    torch.nn.Module.added_by_a_library = lambda self: None  # as transformers adds Module.smart_apply
    try:
        guarded.after_cell(None)
        guarded.before_cell(cell(TEST_CELL))
        assert hasattr(torch.nn.Module, "added_by_a_library")
    finally:
        del torch.nn.Module.added_by_a_library
