"""Mutation testing of the modules that hold the product's rules (`make mutation`).

Each module is mutated by mutmut (3.8+) and tested against its own tests only, in a throw-away
copy of the project under $TMPDIR (nothing is written into the repository), on SQLite. The
lifecycle's transition table is data at module level, which mutmut does not mutate (it mutates
function bodies): its mutants are made here, one per allowed or refused (action, state) pair and
one per target state, and the same tests run against each. Every test run starts from a copy of
one migrated SQLite file (TEST_DATABASE_TEMPLATE, tests/conftest.py). Prints each survivor with
its diff, then one table: module | mutants | killed | score | seconds. Exits 1 when a module
scores under 90 %.

Usage: python scripts/mutation.py [module-key ...]   (keys: see MODULES; default: all)
Needs: pip install -e ".[mutation]" (mutmut). MUTATION_JOBS (default 2) mutants at a time;
MUTATION_KEEP=1 keeps the copies. Takes minutes, not in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@dataclass
class Module:
    key: str
    source: str  # file to mutate, relative to the repository
    tests: list[str]  # its own tests (pytest node ids or files)
    functions: list[str] = field(default_factory=list)  # only these functions' mutants
    label: str = ""


MODULES = [
    Module("versions", "docmgmt/versioning/versions.py", ["tests/rules/test_versions.py"]),
    Module(
        "lifecycle",
        "docmgmt/versioning/lifecycle.py",
        ["tests/rules/test_lifecycle.py"],
    ),
    Module("chain", "docmgmt/audit/chain.py", ["tests/rules/test_chain.py"]),
    Module("analysis", "docmgmt/search/analysis.py", ["tests/rules/test_analysis.py"]),
    Module(
        "retention",
        "docmgmt/records/operations.py",
        ["tests/rules/test_retention.py"],
        functions=["add_months", "dispose_after"],
        label="records `add_months` / `dispose_after` (keep-until)",
    ),
    Module("review-dates", "docmgmt/control/rules.py", ["tests/rules/test_retention.py"]),
    Module("policy", "docmgmt/auth/policy.py", ["tests/rules/test_policy.py"]),
]

KILLED = {"killed", "timeout"}


def _copy_project(dest: Path) -> None:
    """The tracked and new (not ignored) files of the working tree."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in files:
        if not name:
            continue
        src = ROOT / os.fsdecode(name)
        if not src.is_file():
            continue  # deleted in the working tree
        target = dest / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _configure(dest: Path, module: Module) -> None:
    """Replace the [tool.mutmut] table of the copy's pyproject.toml with this module's."""
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(r"\n\[tool\.mutmut\]\n(?:(?!\n\[).)*", "\n", text, flags=re.S)
    text += (
        "\n[tool.mutmut]\n"
        'source_paths = ["docmgmt"]\n'
        f"only_mutate = {_toml_list([module.source])}\n"
        'also_copy = ["migrations", "translations", "wsgi.py"]\n'
        f"pytest_add_cli_args_test_selection = {_toml_list(module.tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        "use_git_change_detection = false\n"
    )
    pyproject.write_text(text)


TEMPLATE_ENV: dict[str, str] = {}

MIGRATE = """
import sys
from flask_migrate import upgrade
from docmgmt import create_app

app = create_app(
    {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
     "STORAGE_DIR": sys.argv[2]}
)
with app.app_context():
    upgrade(revision="heads")
"""


def make_template(work: Path) -> None:
    """Migrate one SQLite file; the tests of every mutant start from a copy of it
    (tests/conftest.py, TEST_DATABASE_TEMPLATE) instead of migrating again."""
    template = work / "template.sqlite3"
    subprocess.run(
        [PYTHON, "-c", MIGRATE, str(template), str(work / "template-storage")],
        cwd=ROOT,
        env=_env() | {"PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )
    TEMPLATE_ENV["TEST_DATABASE_TEMPLATE"] = str(template)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TEST_DATABASE_URL")}
    env["MUTANT_UNDER_TEST"] = ""
    return env | TEMPLATE_ENV


def _mutant_prefix(module: Module) -> str:
    return module.source[: -len(".py")].replace("/", ".") + "."


def run_mutmut(module: Module, work: Path, jobs: int) -> dict[str, str]:
    dest = work / module.key
    _copy_project(dest)
    _configure(dest, module)
    prefix = _mutant_prefix(module)
    names = [f"{prefix}x_{f}__mutmut_*" for f in module.functions]
    run = subprocess.run(
        [PYTHON, "-m", "mutmut", "run", "--max-children", str(jobs), *names],
        cwd=dest,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
        raise SystemExit(f"mutmut failed on {module.source}")
    listing = subprocess.run(
        [PYTHON, "-m", "mutmut", "results", "--all", "true"],
        cwd=dest,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    results = {}
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name.startswith(prefix):
            continue
        function = name[len(prefix) :].split("__mutmut_")[0]
        if module.functions and function[2:] not in module.functions:
            continue
        results[name] = status
    for name, status in results.items():
        if status not in KILLED:
            shown = subprocess.run(
                [PYTHON, "-m", "mutmut", "show", name],
                cwd=dest,
                env=_env(),
                capture_output=True,
                text=True,
            ).stdout
            DIFFS[name] = [
                line
                for line in shown.splitlines()
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            ]
    return results


DIFFS: dict[str, list[str]] = {}


# ---------------------------------------------------------------- the transition table


def table_mutants() -> list[str]:
    """One mutant per (action, state) pair flipped and per target changed."""
    sys.path.insert(0, str(ROOT))
    from docmgmt.versioning.lifecycle import TRANSITIONS
    from docmgmt.versioning.models import RevisionState

    shaped = all(
        isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], frozenset)
        for v in getattr(TRANSITIONS, "values", lambda: [None])()
    )
    if not shaped:
        print("    (lifecycle.TRANSITIONS is no longer action -> (states, target): table skipped)")
        return []
    out = []
    for action, (allowed, target) in TRANSITIONS.items():
        for state in RevisionState:
            out.append(f"{action}:{'-' if state in allowed else '+'}{state.name}")
        if target is not None:
            wrong = next(s for s in RevisionState if s != target)
            out.append(f"{action}:>{wrong.name}")
    return out


DRIVER = """
import io, json, sys, contextlib
import pytest
from docmgmt.versioning import lifecycle
from docmgmt.versioning.models import RevisionState as S

original = dict(lifecycle.TRANSITIONS)
results = {}
for name in sys.argv[2:]:
    action, change = name.split(":")
    allowed, target = original[action]
    state = S[change[1:]]
    if change[0] == "-":
        allowed = allowed - {state}
    elif change[0] == "+":
        allowed = allowed | {state}
    else:
        target = state
    lifecycle.TRANSITIONS.clear()
    lifecycle.TRANSITIONS.update(original)
    lifecycle.TRANSITIONS[action] = (frozenset(allowed), target)
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", sys.argv[1]])
    results[name] = "survived" if code == 0 else "killed"
lifecycle.TRANSITIONS.clear()
lifecycle.TRANSITIONS.update(original)
print(json.dumps(results))
"""


def run_table(module: Module, work: Path, jobs: int) -> dict[str, str]:
    """The table's mutants, each against the module's tests, in one process per job (pytest
    runs in-process once per mutant: the app is imported once)."""
    import json

    dest = work / (module.key + "-table")
    _copy_project(dest)
    (dest / "table_mutants.py").write_text(DRIVER)
    mutants = table_mutants()
    if not mutants:
        return {}
    env = _env() | {"PYTHONPATH": str(dest)}
    procs = [
        subprocess.Popen(
            [PYTHON, "table_mutants.py", " ".join(module.tests), *mutants[i::jobs]],
            cwd=dest,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(jobs)
    ]
    results: dict[str, str] = {}
    for proc in procs:
        out, _err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit("the transition table's mutants could not be run")
        results |= {"TRANSITIONS " + k: v for k, v in json.loads(out.splitlines()[-1]).items()}
    return results


def main(argv: list[str]) -> int:
    chosen = [m for m in MODULES if not argv or m.key in argv]
    if not chosen:
        raise SystemExit(f"unknown module; choose from {[m.key for m in MODULES]}")
    jobs = int(os.environ.get("MUTATION_JOBS", "2"))
    work = Path(tempfile.mkdtemp(prefix="docmgmt-mutation-"))
    rows = []
    started = time.monotonic()
    try:
        make_template(work)
        for module in chosen:
            t0 = time.monotonic()
            results = run_mutmut(module, work, jobs)
            if module.key == "lifecycle":
                results |= run_table(module, work, jobs)
            total = len(results)
            killed = sum(1 for s in results.values() if s in KILLED)
            survivors = sorted(n for n, s in results.items() if s not in KILLED)
            rows.append((module, total, killed, survivors, time.monotonic() - t0))
            print(
                f"{module.source}: {killed}/{total} killed in {time.monotonic() - t0:.0f} s",
                flush=True,
            )
            for name in survivors:
                print(f"    {results[name]}: {name}", flush=True)
                for line in DIFFS.get(name, []):
                    print(f"        {line.strip()}", flush=True)
    finally:
        if not os.environ.get("MUTATION_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    print()
    print("| module | mutants | killed | score | seconds |")
    print("|---|---|---|---|---|")
    worst = 100.0
    for module, total, killed, _survivors, seconds in rows:
        score = 100.0 * killed / total if total else 100.0
        worst = min(worst, score)
        name = module.label or f"`{module.source.removeprefix('docmgmt/')}`"
        print(f"| {name} | {total} | {killed} | {score:.0f} % | {seconds:.0f} |")
    print(f"\nall done in {time.monotonic() - started:.0f} s")
    return 0 if worst >= 90.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
