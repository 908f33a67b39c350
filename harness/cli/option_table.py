"""The table of every command-line option: flags, type, default, help, config key, plan field.

An option with a ``key`` may be set in the config file (docs/configuration.md); one with
a ``plan`` fills that field of a compare or gate run's ``Plan`` (saved as run.json), and
with ``resumed`` it is one a resumed run takes from run.json rather than from a flag.
"""

from __future__ import annotations

from pathlib import Path

from harness.cli.option import Option
from harness.clients.known import DEFAULT_CLIENTS
from harness.documents.limits import (
    BYTES_PER_VALUE,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TASKS,
    FILE_BYTES_VARIABLE,
    TASKS_VARIABLE,
    Limits,
    describe_size,
)
from harness.runner import DEFAULT_JOBS
from harness.targets.model import DEFAULT_JIT, JITS, NETWORKS
from harness.targets.profiles import DEFAULT_PROFILE, PROFILES
from harness.targets.provision import RUNTIMES
from harness.targets.spec import DEFAULT_BASELINE, RECOMMENDED_CANDIDATE

OUTBOUND_HELP = (
    "let HTTP tasks of scenarios that set allow_outbound call hosts other than the local "
    "stub (off by default: workflows from the wild call public hosts); the servers then "
    "reach the HOST:PORT those scenarios list in allow_outbound, and nothing else"
)
LIMITS = "input limits"
GROUPS = {
    LIMITS: "Limits that keep any file from exhausting the machine. A document may also hold, "
    f"its YAML aliases expanded, one value per {BYTES_PER_VALUE} bytes of the file-size "
    f"limit ({Limits().max_values:,} by default), and nest at most "
    f"{Limits().max_depth} levels. Every command, compare and gate included, also reads "
    f"the limits from {FILE_BYTES_VARIABLE} and {TASKS_VARIABLE}; these flags win.",
}

# fmt: off
Opt = Option
OPTIONS: tuple[Option, ...] = (
    Opt("config", ("--config",), "the config file (default: conductor-compat.toml, else the "
      "[tool.conductor-compat] table of pyproject.toml, in this folder or the nearest parent "
      "that has one; see docs/configuration.md)", "path", metavar="FILE"),
    # What to run
    Opt("paths", (), "scenario files and folders (default: the config file's paths, else the "
      "shipped library, scenarios/)", "path", metavar="PATH", many=True, key="paths",
      plan="paths"),
    Opt("baseline", ("--baseline",), f"FLAVOR:VERSION or remote:URL (default: {DEFAULT_BASELINE})",
      default=DEFAULT_BASELINE, metavar="TARGET", key="baseline", plan="baseline"),
    Opt("baselines", ("--baselines",), "folder of recorded baseline traces (required unless "
      "--resume)", "path", metavar="DIR", key="baselines", resumed=True),
    Opt("candidate", ("--candidate",), "FLAVOR:VERSION or remote:URL, repeatable (default: "
      f"{RECOMMENDED_CANDIDATE})", default=[RECOMMENDED_CANDIDATE], metavar="TARGET", many=True,
      key="candidates", plan="candidates"),
    Opt("target", ("--target",), "FLAVOR:VERSION or remote:URL", metavar="TARGET", required=True),
    Opt("targets", (), "FLAVOR:VERSION or remote:URL", metavar="TARGET", many=True, required=True),
    # Where results go
    Opt("out", ("--out",), "the run folder (default: a new folder in the reports folder)",
      "path", metavar="DIR", resumed=True),
    Opt("reports", ("--reports",), "where compare and gate make a new run folder when --out is "
      "not given (default: reports)", "path", default=Path("reports"), metavar="DIR",
      key="reports", resumed=True),
    Opt("traces_out", ("--out",), "folder for the traces (created if missing)", "path",
      metavar="DIR", required=True, dest="out"),
    Opt("reports_out", ("--out",), "folder for the reports (created if missing)", "path",
      metavar="DIR", required=True, dest="out"),
    Opt("resume", ("--resume",), "finish an interrupted run: only the scenario runs missing from "
      "RUN_DIR are made, with the run's own settings", "path", metavar="RUN_DIR"),
    # How traces are judged
    Opt("fail_on", ("--fail-on",), "the least severe difference that makes a scenario "
      "incompatible (default: behavioral; 'any' includes additive and cosmetic)", "choice",
      default="behavioral", choices=("breaking", "behavioral", "any"), key="fail_on",
      plan="fail_on"),
    Opt("fail_on_known", ("--fail-on-known",), "whether catalogued breaking or behavioral changes "
      "that the scenarios reach ask for action (exit 9) until accepted (default: yes, a "
      "migrating team's view; 'no': only unexplained differences fail, a release gate's view)",
      "yesno", default="yes", key="fail_on_known", plan="fail_on_known"),
    Opt("accept", ("--accept",), "your acceptances: changes (by id) or differences (by "
      "fingerprint) your team has handled, each with owner, reason and expiry (YAML; see "
      "docs/verdicts.md)", "path", metavar="FILE", key="accept", plan="accept"),
    Opt("catalog", ("--catalog",), "your own catalog of changes, added to the shipped one "
      "(repeatable)", "path", default=[], metavar="FILE", many=True, key="catalogs",
      plan="catalogs"),
    Opt("no_shipped_catalog", ("--no-shipped-catalog",), "leave out the shipped catalog of "
      "changes: every difference is unexplained", "flag", default=False,
      key="shipped_catalog", negated=True, plan="shipped_catalog"),
    Opt("scrub", ("--scrub",), "extra scrub rules, applied after the shipped ones (repeatable)",
      "path", default=[], metavar="FILE", many=True, key="scrub", plan="scrub"),
    Opt("severity", ("--severity",), "severity rules tried before the shipped ones (repeatable)",
      "path", default=[], metavar="FILE", many=True, key="severity", plan="severity"),
    Opt("no_recheck", ("--no-recheck",), "no intermittent detection: compare and gate do not "
      "re-run the candidate for scenarios that gate, upgrade does not play them across a "
      "switch again; diff uses only the candidate's first run",
      "flag", default=False, key="recheck", negated=True, plan="recheck"),
    # How many runs
    Opt("baseline_repeats", ("--baseline-repeats",), "runs of each scenario on the baseline "
      "(default: 2; 1 turns noise detection off)", "int", default=2, metavar="N", minimum=1,
      key="baseline_repeats", plan="baseline_repeats"),
    Opt("candidate_repeats", ("--candidate-repeats",), "runs of every scenario on each candidate "
      "(default: 1; scenarios that gate are run until they have 3, or N if more)", "int",
      default=1, metavar="N", minimum=1, key="candidate_repeats", plan="candidate_repeats"),
    Opt("repeats", ("--repeats",), "run each scenario N times (default: 1); a baseline recorded "
      "with 2 or more lets `diff` tell noise from real differences", "int", default=1,
      metavar="N"),
    Opt("jobs", ("--jobs",), f"scenarios run at once on each target (default: {DEFAULT_JOBS}); "
      "they start longest first, as each last took on that target",
      "int", default=DEFAULT_JOBS, metavar="N", minimum=1, key="jobs", plan="jobs"),
    Opt("keep_poll_bodies", ("--keep-poll-bodies",), "keep the body of every settle and wait "
      "poll, not only its digest (large traces; for recording test fixtures of intermediate "
      "states)", "flag", default=False),
    # How servers run
    Opt("profile", ("--profile",), f"server configuration (default: {DEFAULT_PROFILE})", "choice",
      default=DEFAULT_PROFILE, choices=tuple(sorted(PROFILES)), key="profile", plan="profile"),
    Opt("server_property", ("--server-property",), "a Spring property of the server, set on "
      "top of the profile's on every server the run starts (repeatable; a later one of a key "
      "wins), and named with the profile in every trace and report: your deployment's "
      "settings, e.g. conductor.app.workflow-execution-lock-enabled=false (docs/targets.md). "
      "Where a server listens and its store stay the profile's",
      default=[], metavar="KEY=VALUE", many=True, key="server_properties",
      plan="server_properties"),
    Opt("runtime", ("--runtime",), "how servers are started (default: process)", "choice",
      default="process", choices=RUNTIMES, key="runtime", plan="runtime"),
    Opt("ready_timeout", ("--ready-timeout",), "how long a server may take to become ready "
      "(default: 240)", "float", default=240.0, metavar="SECONDS", minimum=1,
      key="ready_timeout", plan="ready_timeout_s"),
    Opt("image", ("--image",), "docker runtime: run TARGET from this image instead of one built "
      "from its locked jar; it must have `java` on its PATH and the server jar at "
      "/opt/conductor/server.jar (repeatable)", default=[], metavar="TARGET=IMAGE", many=True,
      key="images", plan="images"),
    Opt("network", ("--network",), "docker runtime: 'none' (default) gives each container a "
      "loopback and nothing else, isolated as under the process runtime (needs root); "
      "'bridge' puts servers on an internal network of the run's own, with no route out but "
      "the host's services reachable at its gateway; 'host' runs them on the host's network. "
      "Only 'none' isolates: the report says which", "choice", default="none",
      choices=NETWORKS, key="network", plan="network"),
    Opt("reuse", ("--reuse",), "docker runtime: keep a warm container per target between runs "
      "and reset it (every definition, handler and running workflow deleted) before each run, "
      "instead of a start of 8 to 15 s; `targets prune` removes warm containers", "flag",
      default=False, key="reuse", plan="reuse"),
    Opt("no_isolation", ("--no-isolation",), "process runtime: run servers without a network "
      "namespace of their own, where isolation cannot be had (not root); a workflow can then "
      "reach any host, and the report says isolation was not enforced. By default each server "
      "reaches the harness's stub and the hosts --allow-outbound lets through, nothing else, "
      "or the run refuses to start", "flag", default=False, key="isolation", negated=True,
      plan="no_isolation"),
    Opt("boot_jar", ("--boot-jar",), "process runtime: start each server with 'java -jar' from "
      "its boot jar. By default its jar is unpacked once into a plain class path, and a class "
      "data sharing archive of the classes the server loads is built on its first start and "
      "mapped on every later one (both cached, keyed by the jar's digest and the JRE): the "
      "same classes and settings, ready in 50 to 60 percent of the time", "flag", default=False,
      key="boot_jar", plan="boot_jar"),
    Opt("jit", ("--jit",), "process runtime: the JIT compiler of a server started unpacked on "
      "its class data sharing archive: 'c1' (default) compiles with C1 only "
      "(-XX:TieredStopAtLevel=1): on two cores ready sooner and with less CPU over a run, "
      "the same verdicts (docs/benchmarks.md); 'tiered' keeps the JVM's own tiered "
      "compilation (C1, then C2 for hot code). A server started with --boot-jar keeps the "
      "JVM's default",
      "choice", default=DEFAULT_JIT, choices=JITS, key="jit", plan="jit"),
    Opt("allow_outbound", ("--allow-outbound",), OUTBOUND_HELP, "flag", default=False,
      key="allow_outbound", plan="allow_outbound"),
    Opt("workdir", ("--workdir",), "where server logs and state go (default: a new folder in the "
      "cache, removed after a successful check)", "path", metavar="DIR"),
    Opt("port", ("--port",), "port for the server (one target only)", "int"),
    Opt("duration", ("--for",), "stop after this many seconds instead of waiting for Ctrl-C",
      "float", metavar="SECONDS"),
    Opt("java", ("--java",), "lowest Java major version (default: from the jar)", "int"),
    # Input limits
    Opt("max_file_size", ("--max-file-size",), "largest scenario or definition file read, in "
      f"bytes or with K, M or G (default: {describe_size(DEFAULT_MAX_FILE_BYTES)})", "size",
      metavar="SIZE", group=LIMITS),
    Opt("max_tasks", ("--max-tasks",), "most tasks in one workflow definition, nested ones "
      f"counted (default: {DEFAULT_MAX_TASKS})", "count", metavar="N", group=LIMITS),
    # Output
    Opt("quiet", ("--quiet",), "print only the verdict line", "flag", default=False,
      exclusive="volume"),
    Opt("verbose", ("--verbose",), "a line per scenario run, on a terminal too", "flag",
      default=False, exclusive="volume"),
    # diff
    Opt("baseline_dir", (), "the baseline's traces (a `run --out` directory)", "path",
      metavar="BASELINE_DIR", dest="baseline"),
    Opt("candidate_dir", (), "the candidate's traces (a `run --out` directory)", "path",
      metavar="CANDIDATE_DIR", dest="candidate"),
    # import
    Opt("files", (), "definition files to import", "path", default=[], metavar="FILE.json",
      many=True),
    Opt("import_out", ("--out",), "folder for the scenario files", "path", metavar="DIR",
      required=True, dest="out"),
    Opt("source", ("--from",), "pull the definitions from a running server instead of files",
      metavar="remote:URL"),
    Opt("name", ("--name",), "import only workflows whose name matches (repeatable, shell-style: "
      "'order_*'); the others still serve as sub-workflows", default=[], metavar="GLOB",
      many=True),
    Opt("prefix", ("--prefix",), "put TEXT in front of every scenario name (not the file names), "
      "so that they never clash with other scenarios run together (e.g. 'prod.')",
      default="", metavar="TEXT"),
    Opt("force", ("--force",), "overwrite scenario files that already exist", "flag",
      default=False),
    Opt("skip_invalid", ("--skip-invalid",), "import the files that hold definitions and list "
      "those that do not (not JSON, not a definition), instead of writing nothing", "flag",
      default=False),
    Opt("start_input", ("--input",), "start each workflow with the input this JSON file gives: "
      "one input for every workflow, or an object mapping workflow names to inputs (default: "
      "an input derived from what each workflow reads)", "path", metavar="FILE"),
    # upgrade
    Opt("upgrade_from", ("--from",), f"the version upgraded from (default: {DEFAULT_BASELINE})",
      default=DEFAULT_BASELINE, metavar="TARGET"),
    Opt("upgrade_to", ("--to",), "the version upgraded to, repeatable (--from is then played "
      "wholly once for all); an older one than --from is a rollback (default: "
      f"{RECOMMENDED_CANDIDATE})", default=[RECOMMENDED_CANDIDATE], metavar="TARGET", many=True),
    Opt("rollback_from", ("--rollback-from",), "also roll back from this --to to --from, on a "
      "store of its own, and report it against this version played wholly (played twice, as "
      "--from is), in a report of its own under rollback-from-VERSION/ (repeatable)",
      default=[], metavar="TARGET", many=True),
    Opt("upgrade_profile", ("--profile",), "the store both servers share (default: postgres)",
      "choice", default="postgres", choices=("postgres", "redis"), dest="profile"),
    Opt("kill", ("--kill",), "kill the old server (SIGKILL) at the switch instead of stopping it "
      "gracefully: a crash, not a planned upgrade", "flag", default=False, plan="kill"),
    Opt("switch_points", ("--switch-points",), "which switch points are played: 'all' (default) "
      "plays each scenario at every switch point it has (the steps its upgrade: switch_after "
      "names, or by default every step after which work is in flight), one round per point, "
      "each round on a store of its own with one switch; 'first' plays the first point only, "
      "in one round (quicker, as CI runs it)", "choice", default="all",
      choices=("all", "first"), key="switch_points", plan="switch_points"),
    # site
    Opt("published", ("--published",), "the folder of published report folders, where "
      "index.html and matrix.html are written (default: reports/published)", "path",
      default=Path("reports/published"), metavar="DIR"),
    Opt("site_baseline", ("--baseline",), "the baseline the release matrix compares every "
      f"version with (default: {DEFAULT_BASELINE})", default=DEFAULT_BASELINE,
      metavar="TARGET"),
    # explore
    Opt("explore_candidate", ("--candidate",), "the candidate the generated scenarios are "
      f"compared on (default: {RECOMMENDED_CANDIDATE})", default=RECOMMENDED_CANDIDATE,
      metavar="TARGET"),
    Opt("budget", ("--budget",), "how long the search goes on, as 90s, 20m or 2h (default: 20m); "
      "the scenario being played when it ends finishes, and the findings so far are written",
      default="20m", metavar="TIME"),
    Opt("seed", ("--seed",), "the seed of the first search round (default: a random one, "
      "written in explore.json so that a run can be repeated)", "int", metavar="N",
      plan="seed"),
    Opt("without_change", ("--without-change",), "leave this change out of the catalog "
      "(repeatable): a control, since the search should find what it explains again",
      default=[], metavar="ID", many=True, plan="without_changes"),
    Opt("explore_runs", ("--explore-runs",), "runs on each target of a generated scenario that "
      "shows an unexplained difference (default: 3): the baseline's own runs tell noise apart",
      "int", default=3, metavar="N", minimum=1, plan="explore_runs"),
    Opt("reproduce", ("--reproduce",), "how many of those runs must show a difference for it "
      "to count, in the search and in every shrinking step (default: 2)", "int", default=2,
      metavar="K", minimum=1, plan="reproduce"),
    Opt("confirm_runs", ("--confirm-runs",), "more runs on each target of a finding's final "
      "scenario before it is written (default: 8; 0: none): a difference that the baseline's "
      "own runs then also show the candidate's way is a race between concurrent tasks that "
      "the first runs did not reveal, listed apart and not counted as a finding", "int",
      default=8, metavar="N", minimum=0, plan="confirm_runs"),
    Opt("max_findings", ("--max-findings",), "stop once this many findings are shrunk "
      "(default: search until --budget is spent)", "int", metavar="N", minimum=1,
      plan="max_findings"),
    # bisect
    Opt("bisect_from", ("--from",), "the first version of the range: the reference every other "
      "version is compared with, which must not show the difference", metavar="TARGET",
      required=True),
    Opt("bisect_to", ("--to",), "the last version of the range, which must show the difference",
      metavar="TARGET", required=True),
    Opt("bisect_change", ("--change",), "the difference to look for: a change of the catalog, by "
      "id (`conductor-compat changes` lists them), whatever versions the catalog gives it",
      metavar="ID", exclusive="sought"),
    Opt("bisect_fingerprint", ("--fingerprint",), "the difference to look for: one difference, "
      "by the fingerprint a report gives it", metavar="FP", exclusive="sought"),
    Opt("bisect_repeats", ("--repeats",), "runs of each scenario on each version probed "
      "(default: 1); with 2 or more, a difference whose timing varies between runs is sought "
      "where it shows in every run (or in any, when --to shows it in some runs only), and a "
      "--from that varies in it is said", "int", default=1, metavar="N", minimum=1,
      plan="repeats"),
    # clients
    Opt("client", ("--client",), "a client SDK as SDK:VERSION, repeatable (`clients list` "
      f"shows them; default: {', '.join(DEFAULT_CLIENTS)})", default=list(DEFAULT_CLIENTS),
      metavar="SDK:VERSION", many=True, plan="clients"),
    Opt("script_timeout", ("--script-timeout",), "how long each wait of a client's script may "
      "last, e.g. for its workers to complete a workflow (default: 120)", "float",
      default=120.0, metavar="SECONDS", minimum=1, plan="script_timeout_s"),
    # sharding: compare and gate, and merge
    Opt("shard", ("--shard",), "run only part I of N of the scenarios, as 2/4, for N CI jobs "
      "(sorted by name, the k-th goes to part k mod N + 1); `merge` joins the parts' run "
      "folders into one report (docs/ci.md)", metavar="I/N", plan="shard"),
    Opt("run_dirs", (), "the run folder of every shard (`compare --shard` or `gate --shard`)",
      "path", metavar="RUN_DIR", many=True, required=True),
    Opt("merge_out", ("--out",), "the whole run's folder: run.json, the shards' traces (linked) "
      "and the four reports (created if missing)", "path", metavar="DIR", required=True,
      dest="out"),
    # changes
    Opt("markdown", ("--markdown",), "print MIGRATION.md instead of a list", "flag",
      default=False),
    Opt("clients_matrix", ("--clients",), "with --markdown: the clients.json of a `clients run` "
      "(the published matrix), for MIGRATION.md's section on client SDKs", "path",
      metavar="FILE"),
)
del Opt
# fmt: on

# How traces are judged: compare, gate and diff take these.
COMPARISON = (
    "fail_on",
    "fail_on_known",
    "accept",
    "catalog",
    "no_shipped_catalog",
    "scrub",
    "severity",
    "no_recheck",
)
# How servers run: compare, gate, run, targets check and up take these.
SERVER = (
    "profile",
    "server_property",
    "runtime",
    "ready_timeout",
    "image",
    "network",
    "reuse",
    "no_isolation",
    "boot_jar",
    "jit",
)
