"""Checkpoint directory of a pairwise run: one file per finished block, written atomically.

Layout::

    manifest.json        fingerprint of the inputs and options, number of blocks, block size
    block_000017.npz     values, statuses, residuals and failure messages of block 17

A block file exists only once the block is complete (written to a temporary name, then
``os.replace``), so a run killed at any moment leaves only whole blocks behind, and resuming
recomputes exactly the missing ones. A directory written for other inputs is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

_FORMAT = 1


def fingerprint(problem, n_blocks: int, block_size: int, shape) -> str:
    """SHA-256 of everything that determines the matrix: inputs, metric, options, blocking."""
    h = hashlib.sha256()
    h.update(repr((_FORMAT, problem.metric, sorted(problem.options.items(), key=str),
                   problem.scale, n_blocks, block_size, tuple(shape))).encode())

    def feed(obj):
        if obj is None:
            h.update(b"none")
        elif isinstance(obj, np.ndarray):
            h.update(repr((obj.dtype.str, obj.shape)).encode())
            h.update(np.ascontiguousarray(obj).tobytes())
        else:
            h.update(b"list%d" % len(obj))
            for item in obj:
                feed(item)

    for part in (problem.left, problem.right, problem.left_weights, problem.right_weights,
                 problem.cost):
        feed(part)
    return h.hexdigest()


class Checkpoint:
    """A checkpoint directory bound to one fingerprint."""

    def __init__(self, directory, fp: str, n_blocks: int, block_size: int):
        self.path = Path(directory)
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self.path / "manifest.json"
        want = {"format": _FORMAT, "fingerprint": fp, "n_blocks": n_blocks,
                "block_size": block_size}
        if manifest.exists():
            have = json.loads(manifest.read_text())
            if have != want:
                raise ValueError(
                    f"checkpoint directory {str(self.path)!r} belongs to a different pairwise run "
                    "(other inputs, metric, options or block size); use an empty directory"
                )
        else:
            _atomic_write_bytes(manifest, json.dumps(want).encode())

    def _block_file(self, b: int) -> Path:
        return self.path / f"block_{b:06d}.npz"

    def done(self) -> set:
        """Indices of the blocks already on disk."""
        out = set()
        for f in self.path.glob("block_*.npz"):
            try:
                out.add(int(f.stem.split("_")[1]))
            except ValueError:
                continue
        return out

    def load(self, b: int):
        with np.load(self._block_file(b), allow_pickle=False) as z:
            messages = json.loads(str(z["messages"]))
            return (z["values"], z["status"], z["residual"],
                    {int(k): v for k, v in messages.items()})

    def save(self, b: int, block) -> None:
        values, status, residual, messages = block
        tmp = self.path / f".tmp_block_{b:06d}_{os.getpid()}.npz"
        with open(tmp, "wb") as fh:
            np.savez(fh, values=values, status=status, residual=residual,
                     messages=np.array(json.dumps({str(k): v for k, v in messages.items()})))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._block_file(b))


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp_{path.name}_{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


__all__ = ["Checkpoint", "fingerprint"]
