"""The lab's first version, built from the repository's history: the baseline a first visit is
measured against, side by side in the same runs (#15 asks the first visit to stay at or under
the 3.3-3.7 s this page took; the machine's speed drifts by tens of per cent from hour to hour, so
only the same runs compare).

The first version is the commit before the structure issue (#1) began: its README says "interactive
in 3.32 s" from 16.8 MB. It is extracted with ``git archive`` (the repository is not touched) into
dist/bench-first-version/ and built there by its own build.py, from the downloads this checkout
already verified (copied into its cache; its build verifies them again, and fetches what it lacks
through pip or npm as every build does). Built once; later runs reuse it.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMIT = "ef18b09"  # "README: the first run also fetches fflate with npm", 2026-11-27, before #1
WHERE = ROOT / "dist" / "bench-first-version"
BUILD_TIMEOUT_S = 900


def first_version_site(log=print):
    """The first version's built site (a directory), or None with the reason logged."""
    site = WHERE / "dist" / "site"
    if (site / "SHA256SUMS").is_file():
        return site
    try:
        archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", COMMIT], capture_output=True,
                                 check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as e:
        log(f"first version: not in this checkout's history ({e}); its page is not measured")
        return None
    shutil.rmtree(WHERE, ignore_errors=True)
    WHERE.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(WHERE, filter="data")
    downloads = ROOT / "cache" / "downloads"
    if downloads.is_dir():
        shutil.copytree(downloads, WHERE / "cache" / "downloads")
    log(f"first version: building {COMMIT} in {WHERE.relative_to(ROOT)} (about a minute and a half)")
    try:
        done = subprocess.run([sys.executable, "build.py", "build"], cwd=WHERE, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log(f"first version: its build took over {BUILD_TIMEOUT_S} s; its page is not measured")
        return None
    if done.returncode != 0 or not (site / "SHA256SUMS").is_file():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        log(f"first version: its build failed ({last[0]}); its page is not measured")
        return None
    return site
