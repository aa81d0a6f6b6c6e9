"""divkit.torch is optional: a clear ImportError without torch, and core divkit never imports it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_import_without_torch_names_the_extra():
    out = run("import sys; sys.modules['torch'] = None\nimport divkit.torch")
    assert out.returncode != 0
    assert "ImportError" in out.stderr and "pip install divkit[torch]" in out.stderr


def test_core_divkit_does_not_import_torch():
    out = run("import sys, divkit, divkit.ot; assert 'torch' not in sys.modules, 'torch imported'")
    assert out.returncode == 0, out.stderr
