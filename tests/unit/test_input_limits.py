"""No input can exhaust the machine: alias bombs, huge files and huge workflows are refused
with exit 2 and a location, and SIGTERM or Ctrl-C stop a command while it loads files.

The memory and signal tests run the real ``conductor-compat`` in a subprocess; wall-clock
limits there are hang guards only, never the assertion.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.cli.app import main, run_async
from harness.documents.limits import Limits, parse_size
from harness.documents.source import SourceError, read_source
from harness.errors import BadInputError, ExitCode
from harness.scenarios import load_all

CLI = [sys.executable, "-m", "harness"]
HANG_GUARD_S = 120

# 9 lists of 9 aliases to the list before: 9**9 leaves, about 550 bytes.
ALIAS_BOMB = "\n".join(
    [
        "name: bomb",
        "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
        *(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)),
        "steps: [{start: {workflow: w, input: {v: *a8}}}]",
        "",
    ]
)

SCENARIO = """\
name: limits
definitions:
  workflows:
    - name: wf
      tasks:
        - {name: cc_work, taskReferenceName: work}
steps:
  - start: {workflow: wf, as: main}
  - wait: {workflow: main, status: COMPLETED}
"""


def _peak_rss_kib(args: list[str]) -> tuple[int, int, str]:
    """Exit code, peak RSS (KiB) and stderr of ``conductor-compat ARGS``, run alone.

    An intermediate Python runs the command and reports ``RUSAGE_CHILDREN``, so that the
    peak is this command's only, not that of whatever this test process ran before.
    """
    probe = textwrap.dedent(
        f"""
        import resource, subprocess, sys
        done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout={HANG_GUARD_S})
        sys.stderr.write(done.stdout + done.stderr)
        print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, *CLI, *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S + 30,
        check=True,
    )
    code, peak = run.stdout.split()
    return int(code), int(peak), run.stderr


def test_an_alias_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    code, peak_kib, output = _peak_rss_kib(["validate", str(path)])
    assert code == ExitCode.BAD_INPUT, output
    assert f"{path}:7:" in output and "alias bomb" in output
    assert "Traceback" not in output
    # Before the limit this grew past 1.9 GB (24 GB on the machine); now ~40 MB.
    assert peak_kib < 250 * 1024, f"peak RSS {peak_kib} KiB"


def test_sigterm_stops_validate_while_it_loads_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    row = "          - {a: 1, b: [x, y, z], c: {d: e, f: 2}}\n"
    header = SCENARIO + "  - start:\n      workflow: wf\n      input:\n        items:\n"
    path.write_text(header + row * 400_000)  # 20 MB: many seconds of parsing
    proc = subprocess.Popen(
        [*CLI, "validate", "--max-file-size", "1G", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_loading(proc.pid, path.stat().st_size)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode in (ExitCode.INTERRUPTED, 143), err
    assert "valid" not in out, "the load finished before the signal: use a larger file"
    assert "Traceback" not in err


def _wait_until_loading(pid: int, size: int) -> None:
    """Until the process holds the file's text in memory (so it is parsing it)."""
    deadline = time.monotonic() + HANG_GUARD_S
    status = Path(f"/proc/{pid}/status")
    while time.monotonic() < deadline:
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        if int(fields["VmRSS"].split()[0]) * 1024 > 40 * 1024 * 1024 + 2 * size:
            return
        time.sleep(0.05)
    raise AssertionError("the command never started loading the file")


def test_a_file_larger_than_the_limit_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO + "# " + "x" * 2000 + "\n")
    assert main(["validate", "--max-file-size", "1K", str(path)]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out
    assert f"{path}:1:1: the file is larger than the limit of 1 KiB" in out
    assert main(["validate", "--max-file-size", "8K", str(path)]) == ExitCode.OK


def test_the_file_size_limit_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    monkeypatch.setenv("CONDUCTOR_COMPAT_MAX_FILE_BYTES", "100")
    (problem,) = load_all([path]).problems
    assert "larger than the limit of 100 bytes" in problem.message
    assert "CONDUCTOR_COMPAT_MAX_FILE_BYTES" in problem.message
    monkeypatch.setenv("CONDUCTOR_COMPAT_MAX_FILE_BYTES", "a lot")
    with pytest.raises(BadInputError, match="not a file size"):
        load_all([path])


def test_a_device_is_read_no_further_than_the_limit() -> None:
    with pytest.raises(SourceError, match="larger than the limit"):
        read_source(Path("/dev/zero"), Limits(max_file_bytes=1024))


def test_sizes_are_bytes_or_binary_units() -> None:
    assert parse_size("4096") == 4096
    assert parse_size("512K") == 512 * 1024
    assert parse_size("64MiB") == 64 * 1024**2
    assert parse_size("1g") == 1024**3
    for bad in ("", "0", "1.5M", "-3", "12 apples", "²"):
        with pytest.raises(BadInputError):
            parse_size(bad)


def _many_tasks(count: int) -> str:
    tasks = "".join(f"        - {{name: cc_w{i}, taskReferenceName: w{i}}}\n" for i in range(count))
    return SCENARIO.replace("        - {name: cc_work, taskReferenceName: work}\n", tasks)


def test_a_workflow_with_too_many_tasks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_many_tasks(30))
    assert main(["validate", "--max-tasks", "20", str(path)]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out
    assert f"{path}:5:7: workflow 'wf' has 30 tasks, more than the limit of 20" in out
    assert main(["validate", "--max-tasks", "30", str(path)]) == ExitCode.OK
    monkeypatch.setenv("CONDUCTOR_COMPAT_MAX_TASKS", "29")
    assert main(["validate", str(path)]) == ExitCode.BAD_INPUT
    assert main(["validate", "--max-tasks", "40", str(path)]) == ExitCode.OK  # the flag wins


def test_the_default_limits_fit_every_real_document() -> None:
    root = Path(__file__).resolve().parents[2]
    loaded = load_all([root / "scenarios"], limits=Limits())
    assert loaded.problems == [] and loaded.scenarios
    corpus = root.parent / "shared" / "corpus"
    for path in sorted(corpus.rglob("*.json")) if corpus.is_dir() else []:
        read_source(path, Limits())
    for path in sorted((root / "harness").rglob("*.yaml")):
        read_source(path, Limits())


def test_run_prints_each_problem_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.yaml").write_text("name: s\n")
    code = main(["run", "--target", "netflix:3.15.0", "--out", str(tmp_path / "o"), str(tmp_path)])
    assert code == ExitCode.BAD_INPUT
    assert capsys.readouterr().err.count("missing required field 'steps'") == 1


def test_nothing_runs_after_a_signal_in_the_middle_of_blocking_work() -> None:
    # The handler interrupts synchronous code in the main task (as a file load is).
    async def busy() -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:  # blocks the loop, as a long load does
            pass
        return 0

    with pytest.raises(KeyboardInterrupt):
        run_async(busy())
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
