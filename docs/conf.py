"""Sphinx configuration for divkit's documentation site.

The API reference is generated at build time from the packages' public lists (``divkit.__all__``,
``divkit.gaussian.__all__``, ``divkit.ot.__all__``, ``divkit.mmd.__all__``, ``divkit.torch.__all__``),
so a name added to one of them appears in the reference without editing any page.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import divkit  # noqa: E402

project = "divkit"
author = "divkit developers"
copyright = "2026, divkit developers"
release = version = divkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]

autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing"]

# no intersphinx: the build must not need the network

html_theme = "pydata_sphinx_theme"
html_title = f"divkit {version}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

# --------------------------------------------------------------------------- API pages

API_SECTIONS = [
    ("divkit", "divkit", "The top-level names: f-divergences, closed forms on histograms, exact OT, MMD."),
    ("divkit.gaussian", "divkit.gaussian", "Closed forms between Gaussians (KL, Bhattacharyya, Hellinger, Bures W2)."),
    ("divkit.ot", "divkit.ot",
     "Exact optimal transport: LP primal and dual, network simplex, multiscale sparse solver, 1-D and sliced W_p."),
    ("divkit.mmd", "divkit.mmd", "Maximum mean discrepancy: kernels, estimators, two-sample tests."),
    ("divkit.torch", "divkit.torch", "The optional torch adapter (requires PyTorch)."),
]


def _public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return sorted(getattr(module, "__all__", []))


def _directive(obj) -> str:
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _write_api_pages() -> None:
    """One page per public name and one index page per package, from the packages' __all__.

    A name re-exported at the top level (``divkit.emd`` is ``divkit.ot.emd``) is documented once,
    under ``divkit``; the subpackage page links to it.
    """
    api = HERE / "api"
    (api / "generated").mkdir(parents=True, exist_ok=True)
    top_level = set(divkit.__all__)
    index = ["API reference", "=============", "", "Generated from each package's ``__all__``.", ""]
    index += [".. toctree::", "   :maxdepth: 1", ""]
    for module_name, page, blurb in API_SECTIONS:
        try:
            module = importlib.import_module(module_name)
            names = _public_names(module_name)
        except ImportError:  # divkit.torch without torch
            continue
        index.append(f"   {page}")
        lines = [module_name, "=" * len(module_name), "", blurb, "", ".. toctree::", "   :hidden:", ""]
        own = [n for n in names if module_name == "divkit" or n not in top_level]
        lines += [f"   generated/{module_name}.{n}" for n in own]
        lines.append("")
        lines += [f"* :obj:`{module_name}.{n}`" for n in own]
        shared = [n for n in names if n not in own]
        if shared:
            lines += ["", "Also here, documented with the top-level names:", ""]
            lines += [f"* :obj:`{module_name}.{n} <divkit.{n}>`" for n in shared]
        _write_if_changed(api / f"{page}.rst", "\n".join(lines) + "\n")
        for n in own:
            full = f"{module_name}.{n}"
            body = [full, "=" * len(full), "", f".. currentmodule:: {module_name}", ""]
            body.append(f".. {_directive(getattr(module, n))}:: {n}")
            _write_if_changed(api / "generated" / f"{full}.rst", "\n".join(body) + "\n")
    _write_if_changed(api / "index.rst", "\n".join(index) + "\n")


_write_api_pages()
