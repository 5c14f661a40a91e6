"""Put the bundled UCI export in place as the DVC-tracked raw file, and push it to the DVC remote.

git carries the genuine file under data/uci/ (a clone has no other copy); DVC versions the raw
area data/raw/, whose .dvc file is committed. On a fresh clone this recreates the tracked file
from the bundled copy, checks that its md5 is the one the .dvc file records, and pushes it to
the configured DVC remote (the local default: dvc-remote/, git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import yaml

from energy_assets.ingest.reader import file_md5
from energy_assets.settings import BUNDLED_EXPORT_NAME, PROJECT_ROOT, RAW_AREA

BUNDLED = PROJECT_ROOT / "data" / "uci" / BUNDLED_EXPORT_NAME
TRACKED = RAW_AREA / BUNDLED_EXPORT_NAME
DVC_FILE = RAW_AREA / (BUNDLED_EXPORT_NAME + ".dvc")


def dvc(*args: str) -> None:
    dvc_bin = PROJECT_ROOT / ".venv" / "bin" / "dvc"
    subprocess.run([str(dvc_bin) if dvc_bin.exists() else "dvc", *args], cwd=PROJECT_ROOT, check=True)


def main() -> int:
    recorded = yaml.safe_load(DVC_FILE.read_text())["outs"][0]["md5"]
    if not TRACKED.exists():
        shutil.copyfile(BUNDLED, TRACKED)
    actual = file_md5(TRACKED)
    if actual != recorded:
        print(
            f"{TRACKED} has md5 {actual} but {DVC_FILE.name} records {recorded}: "
            "run `dvc add` on it to record a new version, or `dvc checkout` to restore the recorded one",
            file=sys.stderr,
        )
        return 1
    if (PROJECT_ROOT / ".git").exists():
        dvc("commit", "--force", "--quiet", str(DVC_FILE.relative_to(PROJECT_ROOT)))  # fills the DVC cache
        dvc("push", "--quiet")
    print(f"raw data: {TRACKED.relative_to(PROJECT_ROOT)} (DVC md5 {actual})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
