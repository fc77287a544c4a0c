"""docs/architecture.md's map of server/ and common/ names every module once, where it lives."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _map_block() -> list[str]:
    text = DOC.read_text()
    start = text.index("## The map of server/")
    block = text[text.index("```\n", start) + 4:]
    return block[:block.index("```")].splitlines()


def mapped_modules() -> Counter[str]:
    """Each `name.py` outside backticks, under the deepest folder line indented less than its own line."""
    folders: list[tuple[int, str]] = []
    found: Counter[str] = Counter()
    for line in _map_block():
        indent = len(line) - len(line.lstrip())
        folders = [(depth, name) for depth, name in folders if depth < indent]
        first = line.split()[0] if line.strip() else ""
        if first.endswith("/"):
            folders.append((indent, first))
            continue
        where = "".join(name for _, name in folders)
        for module in re.findall(r"(?<![`\w])(\w+\.py)\b", re.sub(r"`[^`]*`", "", line)):
            found[where + module] += 1
    return found


def modules_on_disk() -> set[str]:
    return {str(path.relative_to(ROOT)) for package in ("server", "common") for path in (ROOT / package).rglob("*.py")
            if "migrations" not in path.parts and path.name not in ("__init__.py", "__main__.py")}


def test_the_map_names_every_module_once_and_nothing_else() -> None:
    found = mapped_modules()
    assert {name: count for name, count in found.items() if count > 1} == {}
    assert set(found) == modules_on_disk()
