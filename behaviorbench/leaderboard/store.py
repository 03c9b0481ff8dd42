"""The leaderboard store: validated results JSON files in a folder, with an index.

Layout of a store folder (default `./leaderboard`)::

    index.json                      {"store_version": 2, "boards": {kind: Board}, "entries": [...]}
    submissions/<id>.json           a copy of each accepted results file (canonical JSON)
    artifacts/<id>/<relative path>  its plot files (the results' `artifacts`)
    .lock                           flock-ed while a command changes the store

`<id>` is the first 16 hex digits of the submission's content hash (SHA-256 of the canonical JSON of
the validated results: sorted keys, no whitespace), so the same results added twice are detected
as duplicates whatever their formatting.

Boards: a store holds one board per dataset kind (`quadruped`, `mabe22`), created by the first
submission of that kind and fixed from then on: the dataset's identity (checksum, schema
version, generator-config hash) and the protocol (its hash). `add` refuses a result whose
dataset or protocol differs from its kind's board, saying which field differs; another dataset
or protocol needs another store folder. Results of schema 1.0 record no protocol and are refused;
stores written before boards existed (`store_version` 1) still load, and their entries are shown
apart from the boards (`rows.group_rows`).

Crash safety: every file is written atomically (temp file + fsync + `os.replace`), and `index.json`
is replaced last, in one step, after all the files it names exist. The index is the truth: a
command killed at any point leaves the previous index, which names only complete files; files
not in the index (orphans from a killed `add`) are ignored and overwritten by the next `add`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from behaviorbench.benchmark.results import (
    BenchmarkResults,
    ResultsValidationError,
    atomic_write_bytes,
    load_results,
    parse_results,
    utc_now,
)

STORE_VERSION = 2
READABLE_STORE_VERSIONS = (1, 2)  # 1: no boards (written before results schema 1.1)
DEFAULT_DIR = "leaderboard"
PAUSE_ENV = "BEHAVIORBENCH_LEADERBOARD_PAUSE"
"""Test hook: `STEP:FLAGFILE`. At step STEP of `add`, create FLAGFILE and sleep 60 s (so a test
can SIGKILL the process there). Steps: `before_submission`, `mid_submission` (temp file half
written), `before_index`, `mid_index`. Unset in normal use."""


class LeaderboardError(Exception):
    """A submission was rejected or the store is unusable; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One accepted submission as listed in index.json."""

    id: str  # first 16 hex digits of sha256
    sha256: str  # full content hash (hex)
    file: str  # path of the results JSON relative to the store folder
    model: str  # model label (display name or registry name)
    dataset: str  # dataset name
    kind: str  # dataset kind
    added: str  # ISO 8601 time of `add`
    original_path: str  # path the file was added from
    artifacts: tuple[str, ...] = ()  # copied plot files relative to the store folder


@dataclass(frozen=True)
class Board:
    """What every submission of one dataset kind in a store must share."""

    kind: str  # dataset kind
    dataset: str  # dataset name of the submission that created the board
    checksum: str  # dataset.checksum
    schema_version: str | None  # dataset.schema_version
    config_hash: str | None  # dataset.config_hash
    protocol: dict  # results.ProtocolInfo as a dict (its "hash" decides)
    created: str  # ISO 8601 time of the add that created it

    @classmethod
    def of(cls, res: BenchmarkResults, created: str) -> Board:
        d = res.dataset
        return cls(kind=d.kind, dataset=d.name, checksum=d.checksum or "",
                   schema_version=d.schema_version, config_hash=d.config_hash,
                   protocol=res.protocol.model_dump(mode="json"), created=created)

    def differences(self, res: BenchmarkResults) -> list[str]:
        """How `res` differs from the board, e.g. "dataset checksum sha256:ab.. != sha256:cd.."
        (the result's value first); empty if it belongs here."""
        d, out = res.dataset, []
        for what, mine, theirs in (("dataset checksum", self.checksum, d.checksum),
                                   ("dataset schema_version", self.schema_version,
                                    d.schema_version),
                                   ("dataset config_hash", self.config_hash, d.config_hash)):
            if mine != theirs:
                out.append(f"{what} {short_digest(theirs)} != {short_digest(mine)}")
        if res.protocol is not None and res.protocol.hash != self.protocol.get("hash"):
            out += [f"protocol {x}" for x in _protocol_diff(self.protocol,
                                                            res.protocol.model_dump(mode="json"))]
        return out

    def describe(self) -> str:
        """One line: dataset name, checksum, schema, config hash, protocol name and split."""
        p = self.protocol
        return (f"{self.kind} board: dataset {self.dataset} ({short_digest(self.checksum)}, schema "
                f"{self.schema_version or '-'}, config {short_digest(self.config_hash)}), protocol "
                f"{p.get('name')} v{p.get('version')} split {p.get('split')}")


def short_digest(digest: str | None) -> str:
    """'sha256:0123456789ab' (12 hex digits) of a digest; '-' for None."""
    if not digest:
        return "-"
    algo, _, hexd = digest.partition(":")
    return f"{algo}:{hexd[:12]}" if hexd else digest[:19]


def _protocol_diff(board: dict, res: dict) -> list[str]:
    out = [f"{k} {res.get(k)!r} != {board.get(k)!r}" for k in ("name", "version", "split")
           if res.get(k) != board.get(k)]
    for part in ("readout", "frames"):
        a, b = _flat(board.get(part) or {}), _flat(res.get(part) or {})
        out += [f"{part}.{k} {b.get(k)!r} != {a.get(k)!r}" for k in sorted(set(a) | set(b))
                if a.get(k) != b.get(k)]
    return out or ["hash differs"]


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def content_hash(res: BenchmarkResults) -> str:
    """SHA-256 hex digest of the canonical JSON of `res` (sorted keys, compact)."""
    canonical = json.dumps(res.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def submission_problems(res: BenchmarkResults) -> list[str]:
    """Metadata a leaderboard submission needs beyond the schema, and a valid model config;
    empty list if all is well."""
    from behaviorbench.models.registry import recorded_config_problems

    problems = []
    if res.published:
        problems.append("published reference rows are built in; submit measured results only")
    if not res.dataset.checksum:
        problems.append("dataset.checksum is missing (which data was this measured on?)")
    if res.protocol is None:
        problems.append(f"results schema {res.schema_version} records no protocol or dataset "
                        "config hash; score the model again with run-benchmark to add it")
    if res.model.n_parameters is None and res.model.origin != "embeddings":
        problems.append("model.n_parameters is missing")
    if not res.seeds:
        problems.append("seeds is missing")
    bad = recorded_config_problems(res.model.name, res.model.config,
                                   builtin=res.model.origin in (None, "builtin"))
    if bad:
        problems.append(f"invalid model config ({'; '.join(bad)})")
    return problems


def _pause(step: str) -> None:
    spec = os.environ.get(PAUSE_ENV)
    if not spec:
        return
    want, _, flag = spec.partition(":")
    if want != step:
        return
    if flag:
        Path(flag).write_text(step)
    time.sleep(60)


def _write_atomic(path: Path, data: bytes, step: str) -> None:
    """Temp file in the same folder + fsync + `os.replace` + folder fsync.

    The test pause hook `mid_<step>` sits between the two halves of the temp-file write; it is a
    no-op unless `BEHAVIORBENCH_LEADERBOARD_PAUSE` names it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            half = len(data) // 2
            f.write(data[:half])
            f.flush()
            _pause(f"mid_{step}")
            f.write(data[half:])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class LeaderboardStore:
    """A leaderboard folder. Creating the object does not touch the disk."""

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_DIR):
        self.root = Path(root)

    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def problem(self, *, may_create: bool) -> str | None:
        """Why ``root`` is not a leaderboard folder (one line), or None.

        A leaderboard folder holds ``index.json``. With ``may_create`` (``add``) a folder that
        does not exist yet, or an empty one, is accepted too: ``add`` creates the store there.
        """
        if self.index_path.is_file():
            return None
        if not self.root.exists():
            return None if may_create else f"{self.root} does not exist"
        if not self.root.is_dir():
            return f"{self.root} is not a directory"
        if may_create and not any(self.root.iterdir()):
            return None
        return f"{self.root} is not a leaderboard (no index.json)"

    # ---------------------------------------------------------------- reading
    def _index(self) -> dict:
        """index.json as a dict (an empty store's when there is none)."""
        if not self.index_path.exists():
            return {"store_version": STORE_VERSION, "boards": {}, "entries": []}
        try:
            data = json.loads(self.index_path.read_text())
        except json.JSONDecodeError as e:
            raise LeaderboardError(f"{self.index_path}: corrupt index ({e})") from None
        if not isinstance(data, dict) or data.get("store_version") not in \
                READABLE_STORE_VERSIONS:
            version = data.get("store_version") if isinstance(data, dict) else None
            raise LeaderboardError(
                f"{self.index_path}: store_version {version!r}, this behaviorbench reads "
                f"{', '.join(map(str, READABLE_STORE_VERSIONS))}"
            )
        return data

    def entries(self) -> list[Entry]:
        """Entries of index.json (empty if the store does not exist yet)."""
        try:
            return [Entry(**{**e, "artifacts": tuple(e.get("artifacts", ()))})
                    for e in self._index()["entries"]]
        except (KeyError, TypeError) as e:
            raise LeaderboardError(f"{self.index_path}: corrupt index ({e})") from None

    def boards(self) -> dict[str, Board]:
        """kind -> Board (none in a store written before boards existed)."""
        try:
            return {k: Board(**b) for k, b in (self._index().get("boards") or {}).items()}
        except TypeError as e:
            raise LeaderboardError(f"{self.index_path}: corrupt boards ({e})") from None

    def load(self, entry: Entry) -> BenchmarkResults:
        """The validated results of one entry."""
        return load_results(self.root / entry.file)

    def results(self) -> list[tuple[Entry, BenchmarkResults]]:
        """Every (entry, results) pair in index order."""
        return [(e, self.load(e)) for e in self.entries()]

    def find(self, key: str) -> Entry:
        """Entry whose id starts with `key`, or whose model label / name equals `key`."""
        entries = self.entries()
        hits = [e for e in entries if e.id.startswith(key) or e.sha256.startswith(key)]
        if not hits:
            hits = [e for e in entries if e.model == key]
        if not hits:
            hits = [e for e in entries if self.load(e).model.name == key]
        if not hits:
            raise LeaderboardError(f"no submission matches {key!r} in {self.root}")
        if len(hits) > 1:
            ids = ", ".join(f"{e.id} ({e.model}, {e.dataset})" for e in hits)
            raise LeaderboardError(f"{key!r} is ambiguous: {ids}; use a submission id")
        return hits[0]

    def check(self) -> list[str]:
        """Consistency problems: index entries whose file is missing, invalid or altered."""
        problems = []
        for e in self.entries():
            path = self.root / e.file
            try:
                res = load_results(path)
            except ResultsValidationError as err:
                problems.append(str(err))
                continue
            if content_hash(res) != e.sha256:
                problems.append(f"{path}: content hash differs from index.json")
            for a in e.artifacts:
                if not (self.root / a).is_file():
                    problems.append(f"{self.root / a}: artifact listed in index.json is missing")
        return problems

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _clean_temp_files(self) -> None:
        """Remove temp files left by killed writers (only ever called under the lock)."""
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    def add(self, paths: Sequence[str | os.PathLike[str]]) -> list[Entry]:
        """Validate and add results files; all or nothing.

        Raises `LeaderboardError` listing every problem (invalid schema, missing metadata,
        duplicate of an existing or another given submission, missing artifact) and then
        changes nothing. Returns the new entries.
        """
        with self._locked():
            self._clean_temp_files()
            existing = self.entries()
            boards = self.boards()
            now = utc_now().isoformat().replace("+00:00", "Z")
            known = {e.sha256: e for e in existing}
            problems: list[str] = []
            staged: list[tuple[Path, BenchmarkResults, str]] = []
            for p in map(Path, paths):
                try:
                    res = parse_results(p.read_bytes(), origin=str(p))
                except OSError as e:
                    problems.append(f"{p}: cannot read ({e.strerror or e})")
                    continue
                except ResultsValidationError as e:
                    problems.append(str(e))
                    continue
                missing = submission_problems(res)
                if missing:
                    problems.append(f"{p}: rejected: " + "; ".join(missing))
                    continue
                board = boards.get(res.dataset.kind)
                if board is None:
                    boards[res.dataset.kind] = Board.of(res, now)
                elif diff := board.differences(res):
                    problems.append(
                        f"{p}: rejected: scored on another dataset or protocol than this store's "
                        f"{res.dataset.kind} board ({board.dataset}): {'; '.join(diff)} (this "
                        "result's value first); use another --dir for it")
                    continue
                digest = content_hash(res)
                if digest in known:
                    old = known[digest]
                    problems.append(
                        f"{p}: duplicate of submission {old.id} ({old.model}, added {old.added} "
                        f"from {old.original_path})"
                    )
                    continue
                if any(digest == d for _, _, d in staged):
                    problems.append(f"{p}: duplicate of another file given in the same command")
                    continue
                for a in res.artifacts:
                    if not (p.parent / a).is_file():
                        problems.append(f"{p}: artifact {a!r} not found next to the results file")
                staged.append((p, res, digest))
            if problems:
                raise LeaderboardError("nothing added:\n" + "\n".join(f"  - {x}" for x in problems))

            new_entries = []
            for p, res, digest in staged:
                sid = digest[:16]
                copied = []
                for a in res.artifacts:
                    rel = Path("artifacts") / sid / a
                    atomic_write_bytes(self.root / rel, (p.parent / a).read_bytes())
                    copied.append(rel.as_posix())
                rel_file = Path("submissions") / f"{sid}.json"
                _pause("before_submission")
                _write_atomic(self.root / rel_file, res.to_json().encode(), step="submission")
                new_entries.append(
                    Entry(
                        id=sid, sha256=digest, file=rel_file.as_posix(), model=res.model.label,
                        dataset=res.dataset.name, kind=res.dataset.kind, added=now,
                        original_path=str(p.resolve()), artifacts=tuple(copied),
                    )
                )
            _pause("before_index")
            self._write_index(existing + new_entries, boards)
            return new_entries

    def _write_index(self, entries: list[Entry], boards: dict[str, Board]) -> None:
        data = {"store_version": STORE_VERSION,
                "boards": {k: asdict(b) for k, b in sorted(boards.items())},
                "entries": [asdict(e) for e in entries]}
        for e in data["entries"]:
            e["artifacts"] = list(e["artifacts"])
        text = json.dumps(data, indent=2) + "\n"
        _write_atomic(self.index_path, text.encode(), step="index")
