"""`python -m tools.answer_modules` (make student): write coursekit/answers/ from the solution notebooks.

The answers that later notebooks and the benchmark use are the code the course teaches, not a
second implementation. Each module is written from the cells of solutions/<a>/<a>.ipynb whose
metadata holds `"coursekit": {"answer": true}`: nbgrader's markers and the student's scaffolding
(what stands between `##### YOUR CODE START #####` and `### BEGIN SOLUTION` or after `### END
SOLUTION`) are taken out, and the imports the cells need are taken from the notebook's first code
cell (and from the tagged cells themselves). Every function and class the tagged cells define is
exported. tests/test_answer_modules.py fails when a committed module is not what this writes.
"""
import argparse
import ast
import builtins
import symtable
from pathlib import Path

import nbformat

from coursekit.answers import BY_ASSIGNMENT
from coursekit.paths import COURSE_ROOT

ANSWER_TAG = "coursekit"  # cell.metadata["coursekit"] == {"answer": True} marks a cell as an answer
REGION_START, REGION_END = "##### YOUR CODE START #####", "##### YOUR CODE END #####"
SOLUTION_START, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"


def notebook_path(course, assignment):
    """The solution notebook of an assignment, e.g. solutions/01_cam/01_cam.ipynb."""
    return Path(course) / "solutions" / assignment / f"{assignment}.ipynb"


def module_path(course, assignment):
    """The answer module an assignment's tagged cells are written to (coursekit.answers.BY_ASSIGNMENT)."""
    return Path(course) / "coursekit" / "answers" / f"{BY_ASSIGNMENT[assignment]}.py"


def is_answer(cell):
    """Whether a notebook cell is tagged as an answer that later notebooks build on."""
    return cell.cell_type == "code" and cell.metadata.get(ANSWER_TAG, {}).get("answer") is True


def taught_code(source):
    """The cell as the course teaches it: the solution without its markers, without the student's scaffolding."""
    kept, in_region, in_solution = [], False, False
    for line in source.splitlines():
        marker = line.strip()
        if marker in (REGION_START, REGION_END):
            if in_solution or in_region == (marker == REGION_START):
                raise ValueError(f"unbalanced {marker!r} in:\n{source}")
            in_region = marker == REGION_START
        elif marker in (SOLUTION_START, SOLUTION_END):
            if in_solution == (marker == SOLUTION_START):
                raise ValueError(f"unbalanced {marker!r} in:\n{source}")
            in_solution = marker == SOLUTION_START
        elif in_solution or not in_region:
            kept.append(line)
    if in_region or in_solution:
        raise ValueError(f"a region or solution is not closed in:\n{source}")
    return "\n".join(kept)


def split_imports(code):
    """(top-level import statements, the code without them)."""
    tree = ast.parse(code)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    dropped = {line for node in imports for line in range(node.lineno, node.end_lineno + 1)}
    rest = "\n".join(line for number, line in enumerate(code.splitlines(), 1) if number not in dropped)
    return imports, rest.strip("\n")


def global_names(code):
    """Names the code reads from module scope that it does not define itself (builtins excepted)."""
    table = symtable.symtable(code, "answers", "exec")
    read, pending = set(), [table]
    while pending:
        scope = pending.pop()
        top = scope.get_type() == "module"
        read.update(symbol.get_name() for symbol in scope.get_symbols()
                    if symbol.is_referenced() and (top or symbol.is_global()))
        pending.extend(scope.get_children())
    defined = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_assigned() or symbol.is_imported()}
    return read - defined - set(dir(builtins))


def _bound_names(node):
    """{name the import statement binds: its ast.alias}."""
    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.split(".")[0]: alias for alias in node.names}
    return {alias.asname or alias.name: alias for alias in node.names}


def import_lines(statements, needed):
    """The import lines that bind `needed`, from [(import statement, group)] in order.

    Only the names needed are imported, and a blank line separates two groups (the setup cell's
    blank-line-separated groups: standard library, other packages, the course; the answers' own).
    """
    lines, missing, group = [], set(needed), None
    for node, node_group in statements:
        wanted = {name: binding for name, binding in _bound_names(node).items() if name in missing}
        if not wanted:
            continue
        missing -= set(wanted)
        if group is not None and node_group != group:
            lines.append("")
        group = node_group
        aliased = [alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in wanted.values()]
        if isinstance(node, ast.Import):
            lines.extend(f"import {name}" for name in aliased)
        else:
            lines.append(f"from {node.module} import {', '.join(aliased)}")
    if missing:
        raise ValueError(f"the answer cells use {sorted(missing)}, which neither the first code cell's imports "
                         "nor the answer cells define")
    return lines


def _setup_statements(setup):
    """[(import statement, group)] of the setup cell; a blank line starts a new group."""
    lines = setup.splitlines()
    return [(node, ("setup", sum(not line.strip() for line in lines[:node.lineno - 1])))
            for node in split_imports(setup)[0]]


def defined_names(code):
    """The functions and classes the code defines at top level, in order."""
    return [node.name for node in ast.parse(code).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def render(assignment, course=COURSE_ROOT):
    """The text of coursekit/answers/<module>.py for one assignment."""
    notebook = nbformat.read(notebook_path(course, assignment), as_version=4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    cells = [split_imports(taught_code(cell.source)) for cell in notebook.cells if is_answer(cell)]
    if not cells:
        raise ValueError(f"{notebook_path(course, assignment)} has no cell tagged as an answer "
                         f'(cell metadata "{ANSWER_TAG}": {{"answer": true}})')
    code = "\n\n\n".join(body for _, body in cells)
    statements = _setup_statements(setup) + [(node, ("answers",)) for imports, _ in cells for node in imports]
    imports = import_lines(statements, global_names(code))
    names = defined_names(code)
    docstring = (f'"""Notebook {assignment}\'s answers, as solutions/{assignment}/{assignment}.ipynb teaches them.\n\n'
                 "Written by `make student` (python -m tools.answer_modules) from the notebook's cells tagged as\n"
                 'answers: edit the notebook, not this file.\n"""')
    header = [docstring, *imports, *([""] if imports else []), "__all__ = [" + ", ".join(f'"{name}"' for name in names) + "]"]
    return "\n".join(header) + "\n\n\n" + code + "\n"


def write_answer_modules(course=COURSE_ROOT):
    """Write every assignment's answer module; return the paths whose text changed."""
    changed = []
    for assignment in BY_ASSIGNMENT:
        path, text = module_path(course, assignment), render(assignment, course)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.answer_modules", description=__doc__.splitlines()[0])
    parser.add_argument("--course", default=COURSE_ROOT, type=Path)
    args = parser.parse_args(argv)
    for path in write_answer_modules(args.course):
        print(f"written: {path.relative_to(args.course)}")


if __name__ == "__main__":
    main()
