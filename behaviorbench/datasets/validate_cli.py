"""``validate-dataset PATH [--report]``: check a terrain store; ``--report`` then prints the
realism report of a valid store.

Exit codes: 0 the store is valid; 1 it is a store with problems (every problem listed on
stderr); 2 bad input (one line on stderr): ``PATH`` does not exist, is not a directory or holds
no Zarr group (no ``zarr.json``), or an unknown option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from behaviorbench.datasets.validate import validate_store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="validate-dataset", description=__doc__)
    ap.add_argument("path", help="terrain dataset store (Zarr v3 directory)")
    ap.add_argument("--no-checksums", action="store_true", help="skip the sha256 checks")
    ap.add_argument("--report", action="store_true",
                    help="after validation, print per robot the kept fraction, failure "
                         "reasons, progress, stalled frames and the terrain-class mix of the "
                         "kept frames vs the commanded paths (docs/datasets.md)")
    ap.error = lambda message: ap.exit(  # type: ignore[method-assign]
        2, f"{ap.prog}: error: {' '.join(message.split())}\n")
    args = ap.parse_args(argv)
    path = Path(args.path)
    why = ("does not exist" if not path.exists() else "is not a directory" if not path.is_dir()
           else "holds no Zarr store (zarr.json missing)" if not (path / "zarr.json").is_file()
           else None)
    if why:
        print(f"{ap.prog}: error: {args.path} {why}", file=sys.stderr)
        return 2
    problems = validate_store(args.path, checksums=not args.no_checksums)
    if problems:
        print(f"INVALID {args.path}: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    from behaviorbench.datasets.store import read_root_attrs

    c = read_root_attrs(args.path)["counts"]
    kept = "stored" if c["failures_stored"] else "dropped"
    print(f"OK {args.path}: {c['n_sequences']} sequences x {c['n_frames']} frames "
          f"({c['n_failures']} failed traversals {kept})")
    if args.report:
        from behaviorbench.datasets.report import dataset_report, format_report

        print()
        print(format_report(dataset_report(args.path)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
