"""The student's path in a real browser: JupyterLab with nbgrader's extension, driven by headless Chromium.

On a copy of what a student gets for 01_cam (the release zip's files, stand-in weights in the
caches): open the notebook, run all cells, see the visible check fail on the untouched stub with
the course's message and nbgrader's Validate fail, paste the reference answers into the exercise
cells, run all again, see every check pass and Validate succeed. Each step leaves a screenshot
in the test's temporary folder; a failure names it. Chromium and chromedriver are Debian's
(`make test` installs them); Selenium drives them, nothing is downloaded.
"""
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from course_copy import copy_release
from local_server import free_port, stop, wait_until_serving
from submissions import reference_answers

ASSIGNMENT = "01_cam"
NOTEBOOK = f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000")
PASSED = "모든 확인을 통과했습니다"  # coursekit.checks.passed
STUB_INSTRUCTION = "# 여기에 코드를 작성하세요 (write your code here)"  # the code stub of nbgrader_config.py
TOKEN = "student-path-test"
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"
# One JavaScript call reads what a student sees in every cell (JupyterLab redraws cells while they run).
READ_CELLS = """return Array.from(document.querySelectorAll(arguments[0]), cell => ({
    prompt: cell.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '',
    source: Array.from(cell.querySelectorAll('.cm-content .cm-line'), line => line.textContent).join('\\n')}));"""


@pytest.fixture
def student_folder(tmp_path):
    """What a student unzips for the assignment: the notebook and the course files beside it."""
    return copy_release(ASSIGNMENT, tmp_path / "student")


@pytest.fixture
def lab(student_folder, tmp_path):
    """JupyterLab from this environment (its nbgrader extensions included) serving the student's folder."""
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"checkForUpdates": False,
                                                                         "fetchNews": "false"}))
    environment = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
                   "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
                   "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"), "IPYTHONDIR": str(tmp_path / "ipython")}
    port = free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={student_folder}", *(["--allow-root"] if os.geteuid() == 0 else [])]
    log = tmp_path / "jupyterlab.log"
    with open(log, "w") as output:
        server = subprocess.Popen(command, cwd=student_folder, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{url}/api/status?token={TOKEN}", server, log)
        yield url
    finally:
        stop(server)


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium through its chromedriver (a fresh profile, no network use of its own)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    assert not missing, (f"{missing} not found: install Debian's chromium and chromium-driver "
                         "(`make test` does it when run as root: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


class Student:
    """What the student does in JupyterLab, one screenshot per step (steps/NN-name.png)."""

    def __init__(self, driver, folder):
        self.driver, self.folder, self.count = driver, folder, 0
        folder.mkdir(exist_ok=True)

    @contextmanager
    def step(self, name):
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        try:
            yield
        except (AssertionError, WebDriverException) as failure:
            self.driver.save_screenshot(str(path.with_name(f"{path.stem}-FAILED.png")))
            raise AssertionError(f"step '{name}' failed: {failure}\nscreenshots: {self.folder}") from failure
        self.driver.save_screenshot(str(path))

    def wait(self, condition, timeout=120):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.25,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda _: condition())

    def cells(self):
        return self.driver.find_elements(By.CSS_SELECTOR, CELLS)

    def read_cells(self):
        """[{prompt, source}] of every cell, as shown now."""
        return self.driver.execute_script(READ_CELLS, CELLS)

    def kernel_idle(self):
        return self.driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")

    def open(self, url, cell_count):
        self.driver.get(url)
        self.wait(lambda: len(self.cells()) == cell_count and self.kernel_idle())

    def menu(self, *labels):
        """Click through the menu bar, e.g. menu("Run", "Run All Cells")."""
        top, *items = labels
        self.driver.find_element(By.XPATH, f"//div[contains(@class,'lm-MenuBar-itemLabel')][text()='{top}']").click()
        for label in items:
            item = f"//div[contains(@class,'lm-Menu-itemLabel')][text()='{label}']"
            self.wait(lambda: self.driver.find_elements(By.XPATH, item))[0].click()

    def run_all(self, code_cells):
        """Run all cells and wait until every code cell up to the last executed one has run and the kernel is idle."""
        before = self.prompts(code_cells)
        self.menu("Run", "Run All Cells")
        self.wait(lambda: self.prompts(code_cells) != before and self.finished(code_cells), timeout=180)

    def prompts(self, code_cells):
        cells = self.read_cells()
        return [cells[i]["prompt"] for i in code_cells]

    def finished(self, code_cells):
        prompts = self.prompts(code_cells)
        return self.kernel_idle() and not any("*" in prompt for prompt in prompts)

    def output(self, index):
        """The cell's output as shown, scrolled into view for the step's screenshot."""
        output = self.cells()[index].find_element(By.CSS_SELECTOR, ".jp-Cell-outputWrapper")
        for _ in range(2):  # cells above it take their real height once scrolled past: aim again
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", output)
            time.sleep(0.3)
        return output.text

    def replace_source(self, index, text):
        """Click into the cell's editor, select everything (Ctrl+A) and paste `text` over it."""
        editor = self.cells()[index].find_element(By.CSS_SELECTOR, ".cm-content")
        editor.click()
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
        self.driver.execute_script(
            "const data = new DataTransfer(); data.setData('text/plain', arguments[1]);"
            "arguments[0].dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,"
            " cancelable: true}));", editor, text)
        self.wait(lambda: self.source(index) == text, timeout=10)

    def source(self, index):
        """The cell's text as the editor shows it, line by line."""
        return self.read_cells()[index]["source"]

    def validate(self):
        """Save, press nbgrader's Validate button; return the result dialog's class and text (it stays open)."""
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
        self.wait(lambda: not self.driver.find_elements(By.CSS_SELECTOR, ".jp-mod-dirty"), timeout=30)
        self.driver.find_element(By.CSS_SELECTOR, ".validate-button").click()
        dialog = self.wait(lambda: self.driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .validation-success, "
                                                                             ".jp-Dialog .validation-failed"),
                           timeout=180)[0]
        return dialog.get_attribute("class"), dialog.text

    def close_dialog(self):
        self.driver.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
        self.wait(lambda: not self.driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog"), timeout=10)


def test_a_student_runs_fails_answers_passes_and_validates_in_jupyterlab(lab, browser, student_folder, tmp_path):
    notebook = nbformat.read(student_folder / NOTEBOOK, as_version=4)
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    grade_ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    exercises = {i: grade_ids[i] for i, cell in enumerate(notebook.cells)
                 if cell.metadata.get("nbgrader", {}).get("solution")}
    first_check = grade_ids.index(f"{exercises[min(exercises)]}_visible")
    visible_checks = [i for i, grade_id in enumerate(grade_ids) if grade_id and grade_id.endswith("_visible")]
    student = Student(browser, tmp_path / "steps")

    with student.step("notebook-opened"):
        student.open(f"{lab}/lab/tree/{NOTEBOOK}?token={TOKEN}", len(notebook.cells))
    with student.step("untouched-stub-fails-its-check"):
        student.run_all(code_cells)
        shown = student.output(first_check)  # the traceback ends in the stub's Korean instruction and its raise
        assert STUB_INSTRUCTION in shown and "NotImplementedError" in shown, shown
        assert PASSED not in shown
    with student.step("validate-fails-on-the-stub"):
        kind, text = student.validate()
        assert "validation-failed" in kind, text
    student.close_dialog()
    answers = reference_answers(ASSIGNMENT)
    for index, grade_id in exercises.items():
        with student.step(f"answer-{grade_id}-pasted"):
            student.replace_source(index, answers[grade_id])
    with student.step("checks-pass"):
        student.run_all(code_cells)
        prompts = dict(zip(code_cells, student.prompts(code_cells)))
        not_run = [index for index, prompt in prompts.items() if not re.fullmatch(r"\[\d+\]:", prompt)]
        assert not not_run, f"Run All stopped before cells {not_run} (an error above them?)"
        for index in visible_checks:
            assert PASSED in student.output(index), student.output(index)
    with student.step("validate-succeeds"):
        kind, text = student.validate()
        assert "validation-success" in kind and "Success! Your notebook passes all the tests." in text, text
    student.close_dialog()
    saved = nbformat.read(student_folder / NOTEBOOK, as_version=4)
    assert {grade_id: saved.cells[index].source for index, grade_id in exercises.items()} == \
        {grade_id: answers[grade_id] for grade_id in exercises.values()}, "the saved notebook lacks the pasted answers"
