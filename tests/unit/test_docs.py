"""The documentation stays true: README.md and docs/*.md against the real CLI and loaders.

- every ``conductor-compat`` command in a ``sh``, ``bash`` or ``console`` code block names
  a command that exists, and every ``--flag`` it uses is in that command's ``--help``;
- every ``yaml`` block parses; a scenario (it has the scenario format's marker key) loads
  with the scenario loader, an acceptance file with the acceptance loader;
- every ``toml`` block of docs/configuration.md validates against the config schema;
- every relative link resolves to a file of the repository (and a ``#anchor`` to a
  heading of a Markdown page), and every file of the repository a page names exists;
- README.md stays a front page (at most 8 KB), and no page speaks of internal history.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.classify.accept import load_acceptances
from harness.classify.catalog import load_catalog
from harness.cli.app import build_parser, main
from harness.scenarios.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SCHEMAS = ROOT / "harness" / "schemas"
README_LIMIT = 8192
SHELL_LANGUAGES = ("sh", "bash", "console", "shell")
# Words of a project's own work history, which a user's page has no use for. A pytest
# "session" (session-scoped fixtures) is not history, so the words around it count.
HISTORY = re.compile(
    r"\b(?:this|that|previous|earlier|later|next|last|each|every|one) sessions?\b"
    r"|\bsessions? \d+\b"
    r"|\bissue #?\d+\b"
    r"|\bthe issue's\b"
    r"|\.\./shared\b",
    re.IGNORECASE,
)
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
PROGRAM = re.compile(r"(?:[\w.~-]*/)*conductor-compat")  # not a volume or image name
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@dataclass(frozen=True, slots=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str

    def where(self) -> str:
        return f"{rel(self.page)}:{self.line}"


def split(page: Path) -> tuple[list[Block], list[tuple[int, str]]]:
    """The fenced code blocks of ``page``, and its prose lines (outside every block)."""
    blocks: list[Block] = []
    prose: list[tuple[int, str]] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            prose.append((index + 1, lines[index]))
            index += 1
            continue
        indent, fence, language = opening.groups()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not re.match(
            rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]
        ):
            line = lines[end]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            end += 1
        blocks.append(Block(page, index + 1, language.lower(), "\n".join(body) + "\n"))
        index = end + 1
    return blocks, prose


def blocks(*languages: str) -> list[Block]:
    return [b for page in pages() for b in split(page)[0] if b.language in languages]


# --- commands ---------------------------------------------------------------------------


def command_lines(block: Block) -> Iterator[str]:
    """Shell lines of a block, continuation lines joined; in a console block, only the
    lines typed at a ``$`` prompt (the others are output)."""
    pending = ""
    console = block.language == "console"
    for raw in block.text.splitlines():
        line = raw.rstrip()
        if not pending and console:
            if not line.lstrip().startswith("$ "):
                continue
            line = line.lstrip()[2:]
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def is_operator(token: str) -> bool:
    return bool(token) and all(c in "();<>|&" for c in token)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


@dataclass(frozen=True, slots=True)
class Use:
    """One ``conductor-compat`` command in a code block: its command path, and each flag
    with the command path it was given at (a flag before a subcommand is the parent's)."""

    where: str
    text: str
    path: tuple[str, ...]
    flags: tuple[tuple[tuple[str, ...], str], ...]
    problem: str | None = None


def uses_in(block: Block, parser: argparse.ArgumentParser) -> Iterator[Use]:
    for line in command_lines(block):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError as exc:
            if "conductor-compat" in line:
                yield Use(block.where(), line, (), (), f"cannot split the line: {exc}")
            continue
        for start, token in enumerate(tokens):
            if not PROGRAM.fullmatch(token):
                continue
            words: list[str] = []
            for word in tokens[start + 1 :]:
                if is_operator(word):
                    break
                words.append(word)
            yield resolve(block.where(), line, words, parser)


def resolve(where: str, text: str, words: list[str], parser: argparse.ArgumentParser) -> Use:
    path: list[str] = []
    flags: list[tuple[tuple[str, ...], str]] = []
    current = parser
    problem = None
    skip_value = False
    for word in words:
        if skip_value:
            skip_value = False
            continue
        for flag in re.findall(r"(?<![\w-])--[A-Za-z0-9][\w-]*", word):
            flags.append((tuple(path), flag))
        if word.startswith("-"):
            action = current._option_string_actions.get(word.split("=", 1)[0])
            skip_value = action is not None and action.nargs != 0 and "=" not in word
            continue
        choices = subcommands(current)
        if not choices:
            break  # the command's own arguments follow
        if word not in choices:
            problem = f"no command '{' '.join([*path, word])}' (known: {', '.join(choices)})"
            break
        path.append(word)
        current = choices[word]
    else:
        if subcommands(current) and not any(f in ("--help", "--version") for _, f in flags):
            problem = f"'{' '.join(['conductor-compat', *path])}' needs a subcommand"
    return Use(where, text, tuple(path), tuple(flags), problem)


def all_uses() -> list[Use]:
    parser = build_parser()
    return [use for block in blocks(*SHELL_LANGUAGES) for use in uses_in(block, parser)]


def help_text(path: tuple[str, ...]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main([*path, "--help"])
        except SystemExit as exc:  # argparse's own exit, should main ever let it through
            code = int(exc.code or 0)
    assert code == 0, f"conductor-compat {' '.join(path)} --help exited {code}"
    return out.getvalue()


USES = all_uses()
PATHS = sorted({u.path for u in USES if u.problem is None})


def test_the_docs_show_commands() -> None:
    assert len(USES) >= 20, "the command examples were not found in the docs' code blocks"
    assert ("compare",) in PATHS and ("gate",) in PATHS and ("import",) in PATHS


def test_every_command_in_the_docs_exists() -> None:
    problems = [f"{u.where}: {u.problem}: {u.text.strip()}" for u in USES if u.problem]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(("conductor-compat", *p)))
def test_every_flag_in_the_docs_is_in_the_help(path: tuple[str, ...]) -> None:
    helps: dict[tuple[str, ...], str] = {}
    missing = []
    for use in (u for u in USES if u.path == path and u.problem is None):
        for given_at, flag in use.flags:
            if given_at not in helps:
                helps[given_at] = help_text(given_at)
            if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", helps[given_at]):
                missing.append(f"{use.where}: {flag} is not an option: {use.text.strip()}")
    if path not in helps:
        help_text(path)
    assert not missing, "\n".join(missing)


# --- YAML and TOML ----------------------------------------------------------------------


def marker(schema: str) -> str:
    """The key that marks a document of this format: its ``*_format`` property."""
    data = json.loads((SCHEMAS / f"{schema}.schema.json").read_text(encoding="utf-8"))
    return next(str(key) for key in data["properties"] if key.endswith("_format"))


YAML_BLOCKS = blocks("yaml", "yml")


def test_every_yaml_block_parses() -> None:
    problems = []
    for block in YAML_BLOCKS:
        try:
            yaml.safe_load(block.text)
        except yaml.YAMLError as exc:
            problems.append(f"{block.where()}: {exc}")
    assert not problems, "\n".join(problems)


def documents(key: str) -> list[Block]:
    found = []
    for block in YAML_BLOCKS:
        with contextlib.suppress(yaml.YAMLError):
            data = yaml.safe_load(block.text)
            if isinstance(data, dict) and key in data:
                found.append(block)
    return found


SCENARIOS = documents(marker("scenario"))
ACCEPTANCES = documents(marker("accept"))


def test_the_docs_show_a_scenario_and_an_acceptance_file() -> None:
    assert SCENARIOS, "no scenario (with scenario_format) in any yaml block"
    assert ACCEPTANCES, "no acceptance file (with accept_format) in any yaml block"


@pytest.mark.parametrize("block", SCENARIOS, ids=Block.where)
def test_every_scenario_in_the_docs_validates(block: Block, tmp_path: Path) -> None:
    file = tmp_path / "scenario.yaml"
    file.write_text(block.text, encoding="utf-8")
    load_scenario(file)  # raises ScenarioError, with every problem, if it is invalid


@pytest.mark.parametrize("block", ACCEPTANCES, ids=Block.where)
def test_every_acceptance_file_in_the_docs_validates(block: Block, tmp_path: Path) -> None:
    file = tmp_path / "accept.yaml"
    file.write_text(block.text, encoding="utf-8")
    known = {change.id for change in load_catalog().changes}
    load_acceptances(file, known)  # raises on an unknown change id or a schema error


def test_every_toml_block_of_the_configuration_page_validates() -> None:
    schema_file = SCHEMAS / "config.schema.json"
    page = DOCS / "configuration.md"
    if not schema_file.exists() or not page.exists():
        pytest.skip("no config schema or no docs/configuration.md")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    toml_blocks = [b for b in split(page)[0] if b.language == "toml"]
    problems = []
    for block in toml_blocks:
        try:
            data: dict[str, Any] = tomllib.loads(block.text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{block.where()}: {exc}")
            continue
        settings = data.get("tool", {}).get("conductor-compat", data)
        for error in validator.iter_errors(settings):
            place = "/".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{block.where()}: {place}: {error.message}")
    assert not problems, "\n".join(problems)


# --- the pages themselves ---------------------------------------------------------------


def test_the_readme_is_a_front_page() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes, more than {README_LIMIT}"


def test_no_page_speaks_of_internal_history() -> None:
    found = []
    for page in [*pages(), ROOT / "CHANGELOG.md"]:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for match in HISTORY.finditer(line):
                found.append(f"{rel(page)}:{number}: {match.group(0)!r}: {line.strip()}")
    assert not found, "\n".join(found)


# Folders of the repository's own files (scenarios/ and reports/ also hold the reader's).
REPO_PATH = re.compile(r"`((?:harness|tests|scripts|fixtures|benchmarks|docs|ci|\.ci)/[^`\s]*)`")


def test_every_file_of_the_repository_named_in_the_docs_exists() -> None:
    """`harness/...`, `tests/...::test_x` and the like, outside code blocks; a name with a
    placeholder (`<target>`, `*`, `FLAVOR-VERSION`) is a pattern, not a file."""
    missing = []
    for page in [*pages(), ROOT / "CHANGELOG.md"]:
        for number, line in split(page)[1]:
            for name in REPO_PATH.findall(line):
                file = name.split("::", 1)[0]
                if re.search(r"[<>*{}]|[A-Z]{2,}-[A-Z]{2,}|\.\.\.|…", file):
                    continue
                if not (ROOT / file).exists():
                    missing.append(f"{rel(page)}:{number}: {name}")
    assert not missing, "\n".join(missing)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for _, line in split(page)[1]:
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in pages():
        for number, line in split(page)[1]:
            for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                    continue  # http:, https:, mailto:
                file_part, _, anchor = target.partition("#")
                resolved = (page.parent / file_part).resolve() if file_part else page
                where = f"{rel(page)}:{number}: {target}"
                if not resolved.is_relative_to(ROOT):
                    broken.append(f"{where}: outside the repository")
                elif not resolved.exists():
                    broken.append(f"{where}: no such file")
                elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                    broken.append(f"{where}: no heading '#{anchor}' in {rel(resolved)}")
    assert not broken, "\n".join(broken)
