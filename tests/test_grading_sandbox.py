"""The grading sandbox on its own (tools/grading/sandbox.py, kernel.py).

The tests run a small Python program in it, as the grading kernel runs, in a fake course that
holds everything student code must not see. Where a bound exists to stop an attack, the same
program is also run without the bound, to show what the bound stops.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from huggingface_hub import constants

from tools.grading import sandbox

MiB = 2**20
SECRET = "hf_secret_token_of_the_instructor"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder with one student's notebook folder, and secrets all around it."""
    root = tmp_path_factory.mktemp("course")
    for name in ("utils.py", "ImageNet_utils.py", "coursekit/__init__.py", "coursekit/answers/cam.py",
                 "coursekit/answers/gradcam.py", "resources/cat.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("shared")
    for name in ("solutions/01_cam/01_cam.ipynb", "gradebook.db", ".nbgrader.log", ".git/HEAD", "tools/grading/x.py",
                 "submitted/bob/01_cam/01_cam.ipynb", "autograded/bob/01_cam/01_cam.ipynb",
                 "autograded/alice/01_cam/utils.py", "autograded/alice/01_cam/01_cam.ipynb"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("secret")
    (root / "autograded/alice/01_cam/data.csv").write_text("shipped with the assignment")
    (root.parent / "beside_the_course.txt").write_text("secret")
    return root


@pytest.fixture(scope="module")
def caches(tmp_path_factory, course):
    """Model caches as the libraries lay them out, with a token beside the models."""
    root = tmp_path_factory.mktemp("caches")
    for name in ("torch/hub/checkpoints/resnet18-f37072fd.pth", f"hf/hub/{sandbox.VIT_REPOSITORY}/refs/main",
                 "hf/hub/models--someone--private/refs/main"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("weights")
    (root / "hf/token").write_text(SECRET)
    return root


@pytest.fixture
def model_view(caches, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(caches / "torch"))
    monkeypatch.setattr(constants, "HF_HOME", str(caches / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(caches / "hf/hub"))
    return sandbox.model_view()


def view_of(course):
    """What execute.py shows of the course to a 01_cam kernel: the shared files without 01_cam's answer."""
    return [course / name for name in ("utils.py", "ImageNet_utils.py", "coursekit/__init__.py",
                                       "coursekit/answers/gradcam.py", "resources/cat.png")] \
        + [course / "autograded/alice/01_cam/data.csv", sandbox.KERNEL]


def run(course, code, view=None, tmp_size=16 * MiB, environment=None, cpu=60, data=0, extra=(), **popen):
    """Run Python `code` in the sandbox of alice's notebook folder, as the grading kernel runs."""
    command = sandbox.sandboxed([sys.executable, "-c", code], course / "autograded/alice/01_cam",
                                view_of(course) if view is None else view, course, tmp_size, environment, extra)
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: sandbox.limit_resources(cpu, data), **popen)


def test_student_code_sees_only_what_its_assignment_was_given(course):
    secrets = [course / p for p in ("solutions", "gradebook.db", ".nbgrader.log", ".git", "submitted", "tools",
                                    "autograded/bob", "autograded/alice/01_cam/utils.py", "coursekit/answers/cam.py",
                                    "autograded/alice/01_cam/01_cam.ipynb")]
    secrets += [course.parent / "beside_the_course.txt"]
    result = run(course, f"""
import os
print(sorted(os.listdir({str(course)!r})), sorted(os.listdir({str(course / 'coursekit/answers')!r})))
print(sorted(os.listdir('.')), open('data.csv').read(), open({str(course / 'utils.py')!r}).read())
print([p for p in {[str(p) for p in secrets]!r} if os.path.exists(p)])
""")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{sorted(['ImageNet_utils.py', 'autograded', 'coursekit', 'resources', 'utils.py'])} ['gradcam.py']",
        "['data.csv'] shipped with the assignment shared", "[]"]


def test_the_model_files_are_visible_and_nothing_else_of_the_caches(course, caches, model_view):
    environment, models = model_view
    program = f"""
import os
print(os.listdir(os.path.join(os.environ['TORCH_HOME'], 'hub/checkpoints')), os.listdir(os.environ['HF_HUB_CACHE']))
print(os.path.exists({str(caches / 'hf/token')!r}))
"""
    result = run(course, program, [*view_of(course), *models], environment=environment)
    assert result.stdout.splitlines() == ["['resnet18-f37072fd.pth'] ['models--google--vit-base-patch16-224']",
                                          "False"], result.stderr
    whole_caches = run(course, program, [*view_of(course), caches / "torch", caches / "hf"], environment=environment)
    assert whole_caches.stdout.splitlines()[1] == "True", "mounting the whole cache (as before) shows the token"


def test_student_code_changes_no_file_on_disk(course):
    """The course files and /dev are read-only; anything else it writes (in /tmp) is gone with the sandbox."""
    targets = ["data.csv", str(course / "utils.py"), "/dev/new", str(course / "new.txt")]
    result = run(course, f"""
open('/tmp/scratch', 'w').write('ok')
for path in {targets!r}:
    try:
        open(path, 'w').write('changed')
        print('wrote', path)
    except OSError as error:
        print(type(error).__name__)
""")
    assert result.stdout.split()[:3] == ["OSError"] * 3, result.stdout + result.stderr
    assert (course / "utils.py").read_text() == "shared" and not (course / "new.txt").exists()


FILL = """
import os
written = 0
try:
    for i in range(64):
        with open(os.path.join({folder!r}, f'fill{{i}}'), 'wb') as file:
            file.write(b'x' * (4 * 2**20))
        written += 4
except OSError as error:
    print(type(error).__name__, error.errno)
print(written)
"""


@pytest.mark.parametrize("folder, bound", [("/tmp", "tmp_size"), ("/dev/shm", "SHM_SIZE")])
def test_tmp_and_shared_memory_folders_hold_a_bounded_amount(course, folder, bound):
    result = run(course, FILL.format(folder=folder), tmp_size=16 * MiB)
    lines = result.stdout.splitlines()
    assert lines[0] == "OSError 28", result.stdout + result.stderr  # ENOSPC
    assert int(lines[1]) <= (16 if bound == "tmp_size" else sandbox.SHM_SIZE // MiB)


def test_without_the_bound_tmp_takes_what_it_is_given(course):
    result = run(course, FILL.format(folder="/tmp"), tmp_size=0)
    assert result.stdout.splitlines() == ["256"], result.stdout + result.stderr


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


SHARED_MAPPING = """
import mmap, sys
sys.path.insert(0, {folder!r})
import kernel
if {budget}:
    kernel.bound_address_space({budget})
try:
    shared = mmap.mmap(-1, 3 * 2**30)  # anonymous and shared: RLIMIT_DATA does not count it
    shared[::2**20] = b'x' * (3 * 2**10)
    print('mapped')
except (OSError, MemoryError) as error:
    print(type(error).__name__)
"""


def test_the_address_space_bound_counts_shared_memory(course):
    program = SHARED_MAPPING.format(folder=str(sandbox.KERNEL.parent), budget="{budget}")
    bounded = run(course, program.format(budget=2**30))
    assert bounded.stdout.strip() in ("OSError", "MemoryError"), bounded.stdout + bounded.stderr
    data_limit_only = run(course, program.format(budget=0), data=2**30)
    assert data_limit_only.stdout.strip() == "mapped", "the data limit alone lets a shared mapping through"


def test_an_endless_computation_is_stopped_by_the_cpu_limit(course):
    result = run(course, "while True:\n    pass", cpu=2)
    assert result.returncode == 128 + signal.SIGXCPU, f"exit {result.returncode}: {result.stderr}"  # as bwrap reports it


def test_the_grader_reaches_sockets_in_the_sandbox_through_proc_and_nothing_lands_on_its_disk(course, tmp_path):
    """As the grading kernel's sockets: made in the sandbox's own /tmp, reached via /proc/<pid>/root."""
    info = os.open(tmp_path / "info.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.set_inheritable(info, True)
    command = sandbox.sandboxed([sys.executable, "-c", """
import socket
server = socket.socket(socket.AF_UNIX)
server.bind('/tmp/kernel-ipc-1')
server.listen(1)
connection, _ = server.accept()
connection.send(b'hello from the sandbox')
"""], course / "autograded/alice/01_cam", view_of(course), course, 16 * MiB, extra=["--info-fd", str(info)])
    process = subprocess.Popen(command, pass_fds=[info])
    os.close(info)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                pid = json.loads((tmp_path / "info.json").read_text())["child-pid"]
                with socket.socket(socket.AF_UNIX) as client:
                    client.connect(f"/proc/{pid}/root/tmp/kernel-ipc-1")
                    assert client.recv(100) == b"hello from the sandbox"
                break
            except (ValueError, KeyError, FileNotFoundError, ConnectionRefusedError):
                assert time.monotonic() < deadline, "the sandbox's socket never appeared"
                time.sleep(0.05)
    finally:
        process.wait(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["info.json"]
