"""Metric logs of a training run: a wide CSV file and TensorBoard scalars in one folder.

`log_dir/metrics.csv` has one row per `write` call: a `step` column, then one column per metric
name in the order names first appeared. Each row is flushed as it is written. When a row brings
a name the header lacks, the file is rewritten with the wider header (to a temporary file, then
`os.replace`), and earlier rows get empty cells for it; names are expected to settle after the
first few rows, so this rewrite is rare. An existing `metrics.csv` is appended to, which is what a
resumed run wants.

TensorBoard event files go to `log_dir` itself; the writer is opened at the first write.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import tempfile
from numbers import Real
from pathlib import Path

import torch

from gan_core.errors import ConfigError

log = logging.getLogger(__name__)

CSV_NAME = "metrics.csv"
STEP = "step"


def _value(value: object) -> object:
    if isinstance(value, torch.Tensor):
        return value.detach().float().item() if value.numel() == 1 else str(value.tolist())
    if isinstance(value, bool):
        return int(value)
    return value


class MetricsLog:
    """Appends metric rows to `log_dir/metrics.csv` and to TensorBoard.

    Args:
        log_dir: folder for `metrics.csv` and the event files (created if missing); None turns
            every method into a no-op.
    """

    def __init__(self, log_dir: str | os.PathLike | None):
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.columns: list[str] = []
        self.rows = 0
        self.last_step: int | None = None
        self._csv = None
        self._writer = None
        self._purge_step: int | None = None
        if self.log_dir is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.csv_path.is_file():
            self.columns, records = self._read()
            self.rows = len(records)

    @property
    def csv_path(self) -> Path | None:
        return None if self.log_dir is None else self.log_dir / CSV_NAME

    def write(self, metrics: dict[str, object], step: int) -> None:
        """Append one row and add every real-valued metric to TensorBoard at `step`.

        Args:
            metrics: name -> value (float, int, 1-element tensor, or text for the CSV only).
            step: the x value of the row (rounds, attempts, epochs: the caller's choice).
        """
        if self.log_dir is None:
            return
        if STEP in metrics:
            raise ConfigError(f"metric name {STEP!r} clashes with the step column; rename it or "
                              "pass its value as step=")
        row = {STEP: int(step), **{str(k): _value(v) for k, v in metrics.items()}}
        new = [name for name in row if name not in self.columns]
        if new:
            self._widen(new)
        if self._csv is None:
            self._csv = open(self.csv_path, "a", newline="", encoding="utf-8")  # noqa: SIM115
            if self.rows == 0 and self._csv.tell() == 0:
                csv.writer(self._csv).writerow(self.columns)
        csv.DictWriter(self._csv, self.columns).writerow(row)
        self._csv.flush()
        self.rows += 1
        self.last_step = int(step)
        writer = self._tensorboard()
        for name, value in row.items():
            if name != STEP and isinstance(value, Real) and math.isfinite(value):
                writer.add_scalar(name, float(value), int(step))

    def rewind(self, rows: int, last_step: int | None) -> None:
        """Drop what was logged after a checkpoint, so a resumed run logs no row twice.

        Args:
            rows: number of CSV rows the run had written when the checkpoint was taken; later
                rows are removed.
            last_step: the last step logged then; TensorBoard events after it are purged.
        """
        if self.log_dir is None:
            return
        if self.csv_path.is_file():
            self._close_csv()
            columns, records = self._read()
            if len(records) > rows:
                log.info("dropping %d metric rows logged after the checkpoint from %s",
                         len(records) - rows, self.csv_path)
                self._rewrite(columns, records[:rows])
            self.columns, self.rows = columns, min(len(records), rows)
        self.last_step = last_step
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._purge_step = 0 if last_step is None else last_step + 1

    def close(self) -> None:
        """Flush and close the CSV file and the TensorBoard writer (safe to call twice)."""
        self._close_csv()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _tensorboard(self):
        if self._writer is None:
            # Imported here: tensorboard is slow to import and needed only when logging.
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=self._purge_step)
            self._purge_step = None
        return self._writer

    def _close_csv(self) -> None:
        if self._csv is not None:
            self._csv.close()
            self._csv = None

    def _read(self) -> tuple[list[str], list[dict]]:
        with open(self.csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            records = list(reader)
            return list(reader.fieldnames or []), records

    def _widen(self, new: list[str]) -> None:
        self._close_csv()
        records = self._read()[1] if self.rows else []
        self.columns = self.columns + new
        if records or self.csv_path.is_file():
            self._rewrite(self.columns, records)

    def _rewrite(self, columns: list[str], records: list[dict]) -> None:
        fd, temp_name = tempfile.mkstemp(prefix=f".{CSV_NAME}.", suffix=".tmp", dir=self.log_dir)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, columns)
                writer.writeheader()
                writer.writerows(records)
            os.replace(temp_name, self.csv_path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
