"""Run every benchmark (`benchmarks/bench_*.py`) and print figures and ratios from one run.

    python benchmarks/run.py            # full run, a table
    python benchmarks/run.py --quick    # short run (used by CI to keep the benchmarks alive)
    python benchmarks/run.py --json     # machine-readable rows
    python benchmarks/run.py --only signing

Each module runs in an interpreter of its own (one `--only` run each), so no figure depends on
the order. Each module exposes `run(quick: bool) -> list[dict]`; a row is
`{"benchmark", "value", "unit", "note"}` (ratios are rows with unit "x"). Targets are stated in
the notes and checked by nobody but the reader: timings never gate a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def discover(only: str | None) -> list[Path]:
    files = sorted(HERE.glob("bench_*.py"))
    if only:
        files = [f for f in files if f.stem == f"bench_{only}"]
        if not files:
            raise SystemExit(
                f"no benchmark named {only!r} (have: "
                + ", ".join(f.stem[6:] for f in sorted(HERE.glob("bench_*.py")))
                + ")"
            )
    return files


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # picklable for process pools
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run_isolated(path: Path, quick: bool) -> list[dict]:
    """One benchmark module's rows, measured in an interpreter of its own (`--only NAME
    --json`): its figures never depend on which benchmarks ran before it (the heap they left,
    which the collector walks on every full pass, and their warm caches)."""
    name = path.stem[6:]
    command = [sys.executable, str(Path(__file__).resolve()), "--only", name, "--json"]
    done = subprocess.run(
        [*command, *(["--quick"] if quick else [])], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark {name} failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)["rows"]


def format_value(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,} {unit}"
    return f"{value:,.2f} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--only", help="run one benchmark module (name after bench_)")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    for path in discover(args.only):
        if args.only:
            rows += [{"module": path.stem[6:], **row} for row in load(path).run(args.quick)]
        else:
            rows += run_isolated(path, args.quick)
    if args.json:
        print(
            json.dumps(
                {"python": platform.python_version(), "quick": args.quick, "rows": rows}, indent=2
            )
        )
        return 0
    width = max((len(r["benchmark"]) for r in rows), default=10)
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{'quick' if args.quick else 'full'} run"
    )
    for row in rows:
        value = format_value(row["value"], row["unit"])
        print(
            f"{row['module']:<10} {row['benchmark']:<{width}}  {value:>18}  {row.get('note', '')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
