"""The GAN results benchmark at a toy budget: its tables, and a second invocation that reuses
every kept run instead of training again."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bench(out: Path, cache: Path) -> str:
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_gan.py"), "--out", str(out),
               "--iterations", "2", "--seeds", "1", "--digits-iterations", "1", "--jobs", "1"]
    env = {**os.environ, "GAN_CORE_CACHE": str(cache)}  # the digits classifier, as the CLI tests
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_gan_writes_tables_and_resumes_from_kept_runs(tmp_path, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "gan_cache"
    first = run_bench(tmp_path, cache)
    total = len(json.loads((tmp_path / "results.json").read_text()))
    assert f"{total} runs, 0 already" in first
    assert len(list((tmp_path / "runs").glob("*.json"))) == total
    table = (tmp_path / "results.md").read_text()
    assert "| mdgan, lambda1 1 |" in table and "| cgan |" in table
    assert (tmp_path / "digits_cgan.png").stat().st_size > 0

    second = run_bench(tmp_path, cache)
    assert f"{total} runs, {total} already" in second
    assert "[1/" not in second  # nothing trained again
    assert (tmp_path / "results.md").read_text().split("Training:")[1].split(";")[0] == \
        table.split("Training:")[1].split(";")[0]
