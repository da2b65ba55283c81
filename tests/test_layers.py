"""What import-linter and mypy cannot see: nothing imports the RunPod entry module, and each type: ignore left in
the source says why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = (
    "worker",
    "voice",
    "tts",
    "alignment",
    "subtitles",
    "audio",
    "storage",
    "video",
    "common",
    "bootstrap",
)


def source_files() -> list[Path]:
    files = [path for folder in SOURCE_FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 40
    return [ROOT / "handler.py", *files]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_no_package_imports_the_runpod_entry_module():
    importers = [path.relative_to(ROOT) for path in source_files() if "handler" in imported_modules(path)]
    assert importers == []


def test_every_type_ignore_names_its_code_and_gives_a_reason():
    unexplained = []
    for path in source_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "type: ignore" in line and not re.search(r"# type: ignore\[[a-z-, ]+\]\s+#\s*\S", line):
                unexplained.append(f"{path.relative_to(ROOT)}:{number}")
    assert unexplained == []
