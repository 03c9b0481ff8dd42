"""``validate-dataset PATH [--report]``: exit 0 if the store is valid, 1 (listing every
problem) if not; ``--report`` then prints the realism report of a valid store."""

from __future__ import annotations

import argparse
import sys

from behaviorbench.datasets.validate import validate_store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="validate-dataset", description=__doc__)
    ap.add_argument("path", help="terrain dataset store (Zarr v3 directory)")
    ap.add_argument("--no-checksums", action="store_true", help="skip the sha256 checks")
    ap.add_argument("--report", action="store_true",
                    help="after validation, print per robot the kept fraction, failure "
                         "reasons, progress, stalled frames and the terrain-class mix of the "
                         "kept frames vs the commanded paths (docs/datasets.md)")
    args = ap.parse_args(argv)
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
