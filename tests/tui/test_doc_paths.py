"""Every path the README and docs/ name is a real file, and the README's layout names
every folder of the code (issue 18: "every doc path follows the move").

Beside test_layout.py, which checks the code's shape; this checks that what is written
about the shape is true. Three readers, each run on the real files and on a made-up
tree holding one of each offence:

* a path from the project's root (`sync/…`, `storage/…`, `tui/…`, `tests/…`, `docs/…`,
  `.ci/…`) anywhere in README.md or docs/*.md names something that exists;
* a relative link (`[text](docs/cron.md#anchor)`) names a file beside the page;
* in the README's layout block (a fenced block whose lines start with a folder), each
  bare file or folder name (`listing.py`, `screens/`) exists in that line's folder, and
  every package of sync/, storage/ and tui/ has its own line or is named on its
  parent's.

Nothing is allow-listed: a file that moves takes its mention with it in the same commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("sync", "storage", "tui")
TOPS = ("sync/", "storage/", "tui/", "tests/", "docs/", ".ci/")

#: a path from the root; not inside a longer path or a word (`calsync/`, `https://h/tests/`)
ROOTED = re.compile(r"(?<![\w./-])((?:sync|storage|tui|tests|docs|\.ci)/[\w./*-]*[\w/*])")
#: a markdown link or image target, without its title
LINK = re.compile(r"\]\(([^)\s]+)")
#: a line of the layout block: a folder, then at least two spaces
LAYOUT_LINE = re.compile(r"^((?:sync|storage|tui|tests)/(?:[\w-]+/)*)\s{2,}")
#: a bare file (`.py`, `.tcss`) or folder (`screens/`) name, relative to its line's folder
BARE = re.compile(r"(?<![\w./`-])((?:[\w-]+/)*[\w-]+(?:\.py|\.tcss|/))(?![\w/])")


@dataclass(frozen=True)
class Mention:
    page: str
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.path}"


def pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _exists(base: Path, path: str) -> bool:
    path = path.split("#", 1)[0]
    return bool(list(base.glob(path))) if "*" in path else (base / path).exists()


def missing_paths(root: Path = ROOT) -> list[Mention]:
    """Rooted paths and relative links of the pages that name nothing."""
    found: list[Mention] = []
    for page in pages(root):
        name = str(page.relative_to(root))
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in ROOTED.finditer(line):
                if not _exists(root, match.group(1)):
                    found.append(Mention(name, number, match.group(1)))
            for match in LINK.finditer(line):
                target = match.group(1)
                if "://" in target or target.startswith(("#", "mailto:")):
                    continue
                if not _exists(page.parent, target):
                    found.append(Mention(name, number, target))
    return found


def layout(readme: Path) -> dict[str, list[tuple[int, str]]]:
    """{folder: [(line number, text)]} of the README's layout blocks, continuation
    lines (indented) under the folder line they continue."""
    blocks: dict[str, list[tuple[int, str]]] = {}
    fenced = in_layout = False
    folder = ""
    for number, line in enumerate(readme.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced, in_layout, folder = not fenced, False, ""
            continue
        if not fenced:
            continue
        head = LAYOUT_LINE.match(line)
        if head:
            in_layout, folder = True, head.group(1)
            blocks.setdefault(folder, []).append((number, line[head.end() :]))
        elif in_layout and line[:1].isspace():
            blocks[folder].append((number, line))
        else:
            in_layout = False
    return blocks


def missing_in_layout(root: Path = ROOT) -> list[Mention]:
    """Bare names of the layout block that are not in their line's folder."""
    found: list[Mention] = []
    for folder, lines in layout(root / "README.md").items():
        if not (root / folder).is_dir():
            found.append(Mention("README.md", lines[0][0], folder))
        for number, text in lines:
            for match in BARE.finditer(text):
                name = match.group(1)
                # `sync/` on tui/'s line is the root's; `tui/` on tests/'s is tests/tui/
                rooted = name.startswith(TOPS) and (root / name).exists()
                if not rooted and not (root / folder / name).exists():
                    found.append(Mention("README.md", number, folder + name))
    return found


def packages_left_out(root: Path = ROOT) -> list[str]:
    """Packages of the code with neither a layout line nor a mention on their parent's."""
    blocks = layout(root / "README.md")
    named = {
        folder + match.group(1)
        for folder, lines in blocks.items()
        for _, text in lines
        for match in BARE.finditer(text)
    }
    return [
        f"{package}/"
        for top in CODE
        for init in sorted((root / top).rglob("__init__.py"))
        if (package := str(init.parent.relative_to(root))) + "/" not in {*blocks, *named}
    ]


def test_every_path_the_readme_and_docs_name_exists() -> None:
    stale = missing_paths()
    assert not stale, "paths in the docs that name nothing (follow the move):\n" + "\n".join(
        map(str, stale)
    )


def test_every_name_in_the_readme_layout_is_in_its_folder() -> None:
    stale = missing_in_layout()
    assert not stale, "names in the README's layout that are not there:\n" + "\n".join(
        map(str, stale)
    )


def test_the_readme_layout_names_every_package() -> None:
    left_out = packages_left_out()
    assert not left_out, "folders of the code the README's layout leaves out:\n" + "\n".join(
        left_out
    )


def test_the_readers_find_each_kind_of_offender(tmp_path: Path) -> None:
    for folder in ("sync/ical", "sync/engine", "tui/screens", "tests", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    for package in ("sync", "sync/ical", "sync/engine", "tui", "tui/screens"):
        (tmp_path / package / "__init__.py").touch()
    (tmp_path / "sync/ical/codec.py").touch()
    (tmp_path / "tui/app.py").touch()
    (tmp_path / "docs/cron.md").write_text(
        "See `tests/gone.py`, [cron](cron.md#top), [k8s](kubernetes.md) and "
        "[the web](https://example.com/sync/x.py); calsync/x and sync.timer are no paths.\n"
    )
    (tmp_path / "README.md").write_text(
        "Read [docs/cron.md](docs/cron.md) and `sync/ical/codec.py`, not sync/ical.py.\n\n"
        "```text\n"
        "sync/ical/      the codec: codec.py, fast_read.py\n"
        "                and vocabulary.py (words)\n"
        "tui/            app.py, widgets/, and its door into sync/\n"
        "```\n\n"
        "```sh\n"
        "   indented.py outside a layout line is not read\n"
        "```\n"
    )
    assert [str(m) for m in missing_paths(tmp_path)] == [
        "README.md:1: sync/ical.py",
        "docs/cron.md:1: tests/gone.py",
        "docs/cron.md:1: kubernetes.md",
    ]
    assert [str(m) for m in missing_in_layout(tmp_path)] == [
        "README.md:4: sync/ical/fast_read.py",
        "README.md:5: sync/ical/vocabulary.py",
        "README.md:6: tui/widgets/",
    ]
    assert packages_left_out(tmp_path) == ["sync/", "sync/engine/", "tui/screens/"]
