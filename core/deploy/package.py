"""``make package``: ``dist/<name>.zip``, the files ``func azure functionapp publish`` and ``azd deploy`` ship (the
app folder less what ``.funcignore`` names), with the trained models the app loads in ``core/artifacts/``.

The models are built before (``make setup`` trains them into core/artifacts/); this command checks that the artifacts
the app will look for, by the fingerprint of their training data and of the embedding engine, are there, and
refuses to package without them. The embedding engine itself is not shipped: requirements.txt names its folder and
the Functions remote build compiles it; its ENGINE_ID digests its source and build flags, so the remote build has
the id the models were trained with. The knowledge folders' prebuilt vectors (``.vectors/``) ship as files.

Which files ship is decided by git's own ignore matching of ``.funcignore`` (the same syntax as .gitignore),
over the tracked files and the untracked ones (core/artifacts/ is untracked)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # every entry's time: the same tree gives the same zip


def _git_files(root: Path, *args: str) -> set[str]:
    done = subprocess.run(["git", "ls-files", "-z", *args, "--exclude-from=.funcignore"], cwd=root,
                          capture_output=True, check=True)
    return {name for name in done.stdout.decode("utf-8").split("\0") if name}


def shipped_files(root: Path = ROOT) -> list[str]:
    """Paths (relative, POSIX) that a publish of ``root`` ships: everything but what .funcignore matches."""
    tracked_ignored = _git_files(root, "--cached", "--ignored")
    tracked = _git_files(root, "--cached")
    untracked = _git_files(root, "--others")  # untracked files not matched by .funcignore
    files = (tracked - tracked_ignored) | untracked
    return sorted(name for name in files if (root / name).is_file())


def required_artifacts() -> list[str]:
    """The model files the app will look for (their names carry the fingerprint of what they are trained on)."""
    from core.agents import critic_model, dialogue_act, escalation_model, intent, labelled_neighbours, question_type
    from core.pii import ner

    return [intent.model_file(), critic_model.model_file(), question_type.model_file(), escalation_model.model_file(),
            dialogue_act.model_file(), ner.model_file(), labelled_neighbours.vectors_file()]


def build(out: Path, root: Path = ROOT) -> Path:
    from core.agents.model_cache import ARTIFACTS_DIR

    missing = [name for name in required_artifacts() if not (ARTIFACTS_DIR / name).is_file()]
    if missing:
        raise SystemExit(f"missing artifacts {missing} in {ARTIFACTS_DIR}: run make setup (it trains them)")
    files = shipped_files(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((root / name).stat().st_mode & 0o777 | 0o100000) << 16
            archive.writestr(info, (root / name).read_bytes())
    partial.replace(out)
    return out


def package_name(root: Path = ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.deploy.package", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="the zip to write (default dist/<name>.zip)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else ROOT / "dist" / f"{package_name()}.zip"
    build(out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    artifacts = [n for n in names if n.startswith("core/artifacts/")]
    print(f"{out}: {len(names)} files, {out.stat().st_size / 1e6:.1f} MB; artifacts: {', '.join(artifacts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
