"""A notebook opened on Colab sets itself up: it fetches the course from its stamped address and runs.

Colab is simulated: a stand-in `google.colab` package on the kernel's path (its presence is how
the first cell knows where it runs), an empty working folder, and a course address that points at
a git repository made by the test (file://) or at a release zip served by a local http.server.
"""
import ast
import importlib.metadata
import shutil
import subprocess
import sys
import threading
import types
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from nbclient import NotebookClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course_copy import ROOT, copy_course
from coursekit import colab
from submissions import Student, submission
from tools.grading import release

ASSIGNMENT = "01_cam"
RELEASED = ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
COURSE_MODULES = {"coursekit", "utils", "ImageNet_utils", "tools"}  # tools: the hidden tests, instructors' copy only
COLAB_ONLY = {"google"}  # google.colab, imported only to know whether the notebook runs on Colab
KERNEL_MODULES = {"IPython"}  # every Jupyter kernel (Colab's included) runs in IPython


@pytest.fixture
def on_colab(tmp_path, monkeypatch):
    """Kernels started in this test see a stand-in google.colab; returns their empty working folder."""
    package = tmp_path / "standin" / "google" / "colab"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab: only its presence matters."""\n')
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "standin"))
    workdir = tmp_path / "content"
    workdir.mkdir()
    return workdir


def run(notebook, workdir, cells=None):
    """Execute the notebook (or its first `cells` cells) in a fresh kernel in `workdir`; return the run notebook."""
    notebook = nbformat.from_dict(notebook)
    if cells is not None:
        notebook.cells = notebook.cells[:cells]
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return notebook


def text_of(cell):
    return "".join(output.get("text", "") for output in cell.outputs)


def first_code_index(notebook):
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


def test_a_released_zip_on_colab_fetches_the_course_and_runs_to_the_end(on_colab, tmp_path, monkeypatch):
    temporary = tmp_path / "kernel_tmp"  # the kernel's temporary folder, where the download goes first
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    served = tmp_path / "served"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/xai/{{assignment}}.zip"
        archive = release.write_zip(ROOT, ASSIGNMENT, served / "xai", course_url=url)
        with zipfile.ZipFile(archive) as opened:
            released = nbformat.reads(opened.read(f"{ASSIGNMENT}/notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb").decode(),
                                      as_version=4)
        answered = run(submission(released, ASSIGNMENT, Student("colab")), on_colab)
    finally:
        server.shutdown()
    setup = text_of(answered.cells[first_code_index(answered)])
    fetched = on_colab / "xai-course" / ASSIGNMENT
    assert f"코스를 {url.format(assignment=ASSIGNMENT)}에서 가져와" in setup, setup
    assert f"Colab: 코스 폴더는 {fetched}입니다. 필요한 패키지가 모두 있어 설치하지 않았습니다." in setup, setup
    assert f"course folder: {fetched}" in setup
    assert list(temporary.iterdir()) == [], "the downloaded zip was left behind"


def test_a_git_course_url_on_colab_is_cloned_once(on_colab, tmp_path):
    repository = copy_course(tmp_path / "repository")
    shutil.copytree(ROOT / "notebooks", repository / "notebooks")
    git = ["git", "-c", "user.name=Instructor", "-c", "user.email=instructor@example.org", "-C", str(repository)]
    for command in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "--message", "course"]):
        subprocess.run([*git, *command], check=True)
    url = repository.resolve().as_uri()
    notebook = nbformat.reads(release.stamped(RELEASED.read_text(encoding="utf-8"), url, ASSIGNMENT), as_version=4)
    cells = first_code_index(notebook) + 1
    first = text_of(run(notebook, on_colab, cells).cells[-1])
    shutil.rmtree(repository)  # a second run (a restarted Colab runtime) uses the copy it fetched
    second = text_of(run(notebook, on_colab, cells).cells[-1])
    fetched = on_colab / "xai-course"
    assert f"코스를 {url}에서 가져와 {fetched}에 둡니다." in first, first
    assert "코스를" not in second and f"course folder: {fetched}" in second, second


def first_cell_error(monkeypatch, workdir, colab_present):
    """Run the unstamped notebook's first cell in this process from `workdir`; return the error it raises."""
    monkeypatch.chdir(workdir)
    if colab_present:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    notebook = nbformat.read(RELEASED, as_version=4)
    with pytest.raises(FileNotFoundError) as raised:
        exec(notebook.cells[first_code_index(notebook)].source, {"__name__": "first_cell"})
    return str(raised.value)


def test_without_a_course_url_colab_says_where_to_put_one(monkeypatch, tmp_path):
    message = first_cell_error(monkeypatch, tmp_path, colab_present=True)
    assert message.startswith("Colab에서 코스 폴더를 찾지 못했습니다. 이 셀의 COURSE_URL에"), message
    assert "\nCourse folder not found on Colab: set COURSE_URL" in message
    assert not (tmp_path / "xai-course").exists()


def test_elsewhere_a_missing_course_says_where_to_open_the_notebook(monkeypatch, tmp_path):
    message = first_cell_error(monkeypatch, tmp_path, colab_present=False)
    assert message.startswith("코스 폴더(utils.py와 resources/가 있는 폴더)를 찾지 못했습니다."), message
    assert "\nCourse folder (with utils.py and resources/) not found: open this notebook from" in message


def test_colab_installs_only_the_missing_and_out_of_range_requirements(monkeypatch, capsys):
    versions = {"torch": "2.99.0", "torchvision": "0.20.0", "transformers": "4.57.0", "pillow": "11.0",
                "numpy": "2.1.0", "matplotlib": "3.10.0"}  # safetensors missing, torch too new

    def installed_version(name):
        if name not in versions:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]
    commands = []
    monkeypatch.setattr(colab.subprocess, "run", lambda command, check: commands.append(command))
    needed = colab.set_up_colab(installed_version)
    assert sorted(needed) == ["safetensors>=0.4", "torch<2.15,>=2.2"]
    assert commands == [[sys.executable, "-m", "pip", "install", "--quiet", *needed]]
    korean, english = capsys.readouterr().out.splitlines()
    assert korean.startswith("Colab: 코스 폴더는") and "설치했습니다: " in korean and english.startswith("Colab: the course")


def test_every_runtime_requirement_is_in_requirements_txt():
    assert sorted(r.name for r in colab.runtime_requirements()) == sorted(colab.RUNTIME_DISTRIBUTIONS)


def test_what_the_course_imports_at_run_time_is_installed_on_colab():
    """Every third-party module the notebooks and the course import comes with a runtime requirement."""
    provided = installed_with(colab.RUNTIME_DISTRIBUTIONS)
    distributions = importlib.metadata.packages_distributions()
    imported = third_party_imports()
    unprovided = {module for module in imported
                  if not {canonicalize_name(d) for d in distributions.get(module, [module])} & provided}
    assert not unprovided, f"imported at run time but not installed by coursekit.colab on Colab: {unprovided}"
    assert {"torch", "PIL", "transformers"} <= imported  # the scan sees the imports


def installed_with(names):
    """The given distributions and, recursively, the distributions they require (canonical names)."""
    seen, todo = set(), [canonicalize_name(name) for name in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def third_party_imports():
    """Top-level modules imported by the solution notebooks' code cells and the course's modules, not stdlib or course."""
    sources = [path.read_text(encoding="utf-8") for path in [*(ROOT / "coursekit").rglob("*.py"),
                                                                ROOT / "utils.py", ROOT / "ImageNet_utils.py"]]
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        sources += [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    modules = set()
    for node in (node for source in sources for node in ast.walk(ast.parse(source))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - COURSE_MODULES - COLAB_ONLY - KERNEL_MODULES


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the release zip without logging every request."""

    def log_message(self, *args):
        pass
