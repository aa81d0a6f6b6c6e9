"""The ``divkit`` command line.

``divkit demo [--json] [--points N]``
    WGAN Example 1 (Arjovsky, Chintala & Bottou 2017): KL, JS, TV, Hellinger and W1 between
    uniform distributions on two parallel segments.
``divkit compare X Y --metric NAME [options] [--json]``
    One number between two samples or histograms read from ``.npy``, ``.csv`` or ``.txt`` files.
``divkit --version``

JSON output is strict JSON (RFC 8259 has no infinity or NaN): a non-finite number is written as
``null`` and the object holding it gets a ``"nonfinite"`` entry mapping the key to ``"inf"``,
``"-inf"`` or ``"nan"``; for example KL between disjoint histograms is
``{"value": null, "nonfinite": {"value": "inf"}, ...}``.

``.npy`` files are read with ``numpy.load(allow_pickle=False)``: an object array (which would
need unpickling, i.e. running code from the file) is refused, never loaded.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

DEMO_THETAS = (-1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0)

HISTOGRAM_METRICS = (
    "kl",
    "js",
    "js_distance",
    "tv",
    "hellinger",
    "squared_hellinger",
    "pearson_chi2",
    "neyman_chi2",
    "jeffreys",
    "cross_entropy",
)
SAMPLE_METRICS = ("wasserstein", "sliced_wasserstein", "mmd2", "mmd_test", "energy_distance")
METRICS = HISTOGRAM_METRICS + SAMPLE_METRICS
_WITH_BASE = {"kl", "js", "js_distance", "jeffreys", "cross_entropy"}
_KERNEL_METRICS = {"mmd2", "mmd_test"}

_DESCRIPTION = """\
divkit: distances and divergences between probability distributions, with proofs attached.

  divkit demo                      WGAN Example 1: KL and JS saturate, W1 = |theta|
  divkit compare X Y --metric M    one number between two samples or histograms
  divkit --version                 the installed version

Run "divkit demo --help" or "divkit compare --help" for the options of each command.
"""

_JSON_NOTE = """\
JSON output is strict JSON: a non-finite number is written as null, and the object holding it
gets a "nonfinite" entry mapping that key to "inf", "-inf" or "nan".
"""

_COMPARE_EPILOG = f"""\
metrics on histograms (X and Y: 1-D, non-negative, summing to 1 unless --normalize):
  {", ".join(HISTOGRAM_METRICS)}
metrics on samples (X: n points, Y: m points; one point per row, one coordinate per column):
  wasserstein         exact W_p (not W_p^p); --json adds the optimality certificate
  sliced_wasserstein  sliced W_p over random directions (--projections, --seed)
  mmd2                MMD^2 (--kernel, --bandwidth, --estimator)
  mmd_test            permutation two-sample test; the value is MMD^2, --json adds the p-value
  energy_distance     MMD^2 with k(x, y) = -|x - y| (scipy's energy_distance is its square root)

files: .npy (numpy.load with allow_pickle=False: object arrays are refused, never unpickled),
.csv (comma separated, an optional header line), .txt (whitespace separated); lines starting
with # are comments.

{_JSON_NOTE}
example:
  divkit compare x.npy y.csv --metric wasserstein --p 2 --json
"""


class InputFileError(ValueError):
    """A sample or histogram file that cannot be read as a numeric array."""


# --------------------------------------------------------------------------- demo


def parallel_segments(theta: float, n_points: int):
    """WGAN Example 1 discretised: ``n_points`` equally spaced points on {0} x [0,1] and on
    {theta} x [0,1], as point clouds and as histograms over the union of their supports.

    Returns ``(x0, x_theta, p0, p_theta)`` where ``x0`` and ``x_theta`` have shape
    ``(n_points, 2)`` and ``p0``, ``p_theta`` are histograms on the union of the two supports
    (``n_points`` bins when theta = 0, ``2 n_points`` bins otherwise).
    """
    heights = (np.arange(n_points) + 0.5) / n_points
    x0 = np.column_stack([np.zeros(n_points), heights])
    x_theta = np.column_stack([np.full(n_points, theta), heights])
    uniform = np.full(n_points, 1.0 / n_points)
    if theta == 0:
        return x0, x_theta, uniform, uniform.copy()
    zeros = np.zeros(n_points)
    return x0, x_theta, np.concatenate([uniform, zeros]), np.concatenate([zeros, uniform])


def wgan_example_rows(thetas=DEMO_THETAS, n_points: int = 64):
    """One dict per theta with KL, JS, TV, Hellinger and W1 between P0 and P_theta."""
    from divkit import hellinger, js, kl, tv, wasserstein

    rows = []
    for theta in thetas:
        x0, x_theta, p0, p_theta = parallel_segments(theta, n_points)
        rows.append(
            {
                "theta": float(theta),
                "KL": kl(p0, p_theta),
                "JS": js(p0, p_theta),
                "TV": tv(p0, p_theta),
                "Hellinger": hellinger(p0, p_theta),
                "W1": wasserstein(x0, x_theta, p=1),
            }
        )
    return rows


def _format_table(rows, n_points: int) -> str:
    columns = ["theta", "KL", "JS", "TV", "Hellinger", "W1"]
    lines = [
        "WGAN Example 1 (Arjovsky, Chintala & Bottou 2017): P0 uniform on {0} x [0,1],",
        f"P_theta uniform on {{theta}} x [0,1], each discretised on {n_points} points.",
        "KL and JS saturate (+inf, log 2 = 0.693147) once the supports separate; W1 = |theta|.",
        "",
        "".join(f"{c:>12}" for c in columns),
    ]
    for row in rows:
        cells = []
        for c in columns:
            v = row[c]
            cells.append(f"{v:>12.4g}" if c == "theta" else f"{v:>12.6f}" if math.isfinite(v) else f"{'inf':>12}")
        lines.append("".join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def _nonfinite_name(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def json_safe(obj):
    """Strict-JSON copy of ``obj``: numpy scalars and arrays become Python numbers and lists;
    a non-finite float becomes ``None`` and its dict gains ``"nonfinite": {key: "inf" | "-inf" | "nan"}``
    (a non-finite list element becomes ``None`` and the dict holding the list records
    ``"key[i]"``)."""
    if isinstance(obj, dict):
        out = {}
        flags = {}
        for key, value in obj.items():
            if isinstance(value, np.ndarray):
                value = value.tolist()
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                out[key] = None
                flags[key] = _nonfinite_name(float(value))
            elif isinstance(value, list):
                items = []
                for i, item in enumerate(value):
                    if isinstance(item, (float, np.floating)) and not math.isfinite(item):
                        items.append(None)
                        flags[f"{key}[{i}]"] = _nonfinite_name(float(item))
                    else:
                        items.append(json_safe(item))
                out[key] = items
            else:
                out[key] = json_safe(value)
        if flags:
            out["nonfinite"] = flags
        return out
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _dumps(obj) -> str:
    return json.dumps(json_safe(obj), indent=2, allow_nan=False)


# --------------------------------------------------------------------------- files


def load_array(path: str, name: str) -> np.ndarray:
    """Read a numeric array from ``.npy``, ``.csv`` or ``.txt``; ``name`` ("X" or "Y") labels errors.

    ``.npy`` is loaded with ``allow_pickle=False``: object arrays are refused, never unpickled.
    Raises :class:`InputFileError` (a ``ValueError``) for a missing, unreadable, empty,
    ragged or non-numeric file.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".npy", ".csv", ".txt"):
        raise InputFileError(f"{name}: {path!r} has extension {suffix or '(none)'!r}; expected .npy, .csv or .txt")
    if not file.is_file():
        raise InputFileError(f"{name}: no such file {path!r}")
    if suffix == ".npy":
        try:
            array = np.load(file, allow_pickle=False)
        except ValueError as err:
            if "allow_pickle" in str(err):
                what = (
                    "holds an object array, which only unpickling could read"
                    if "Object arrays" in str(err)
                    else "is not a .npy array file (it has no .npy header: numpy would read it as a pickle)"
                )
                raise InputFileError(
                    f"{name}: {path!r} {what}; divkit never unpickles files: save a numeric array with np.save"
                ) from None
            raise InputFileError(f"{name}: {path!r} is not a valid .npy file ({err})") from None
        except (OSError, EOFError) as err:
            raise InputFileError(f"{name}: {path!r} is not a valid .npy file ({err})") from None
        if not isinstance(array, np.ndarray):
            raise InputFileError(f"{name}: {path!r} is an .npz archive or not an array; save one array with np.save")
    else:
        array = _load_text(file, name, path, delimiter="," if suffix == ".csv" else None)
    if array.dtype.kind not in "biuf":
        raise InputFileError(f"{name}: {path!r} holds {array.dtype} values; expected real numbers")
    if array.ndim == 0 or array.size == 0:
        raise InputFileError(f"{name}: {path!r} holds no values (shape {array.shape})")
    if array.ndim > 2:
        raise InputFileError(f"{name}: {path!r} has shape {array.shape}; expected 1-D or 2-D")
    return array.astype(np.float64, copy=False)


def _load_text(file: Path, name: str, path: str, delimiter):
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{name}: cannot read {path!r} as text ({err})") from None
    rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise InputFileError(f"{name}: {path!r} holds no values")
    for skip in (0, 1):  # the first line may be a header
        body = rows[skip:]
        if not body:
            break
        try:
            return np.loadtxt(body, delimiter=delimiter, dtype=np.float64, ndmin=1)
        except ValueError as err:
            message = str(err)
        if skip == 0 and not _looks_numeric(rows[0], delimiter):
            continue
        break
    if "number of columns" in message or "inhomogeneous" in message:
        raise InputFileError(f"{name}: {path!r} has rows of different lengths") from None
    raise InputFileError(f"{name}: {path!r} holds a value that is not a number ({message})") from None


def _looks_numeric(line: str, delimiter) -> bool:
    try:
        [float(cell) for cell in line.split(delimiter)]
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- compare


def _as_points(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1) if a.ndim == 1 else a


def compare(x: np.ndarray, y: np.ndarray, metric: str, options: dict) -> dict:
    """Compute ``metric`` between arrays ``x`` and ``y``; returns a dict with ``value`` and, where
    the metric has one, the ``certificate`` (wasserstein) or the ``test`` result (mmd_test)."""
    import divkit

    if metric in HISTOGRAM_METRICS:
        for label, a in (("X", x), ("Y", y)):
            if a.ndim != 1:
                raise ValueError(f"{label}: metric {metric!r} compares histograms: expected 1-D, got shape {a.shape}")
        kwargs = {"normalize": options["normalize"]}
        if options["base"] is not None:
            kwargs["base"] = options["base"]
        return {"value": float(getattr(divkit, metric)(x, y, **kwargs))}
    if metric == "wasserstein":
        res = divkit.wasserstein(x, y, p=options["p"], metric=options["ground_metric"], return_result=True)
        cert = res.certificate
        certificate = {
            "is_optimal": bool(cert.is_optimal()),
            "primal_value": cert.primal_value,
            "dual_value": cert.dual_value,
            "duality_gap": cert.duality_gap,
            "marginal_error": cert.marginal_error,
            "dual_infeasibility": cert.dual_infeasibility,
            "complementary_slackness": cert.complementary_slackness,
        }
        # res.cost is the transport cost sum C_ij Gamma_ij with C = d^p, i.e. W_p^p
        return {"value": float(res.cost) ** (1.0 / options["p"]), "solver": res.solver, "certificate": certificate}
    if metric == "sliced_wasserstein":
        value = divkit.sliced_wasserstein(
            _as_points(x), _as_points(y), p=options["p"], n_projections=options["projections"], rng=options["seed"]
        )
        return {"value": float(value)}
    if metric == "energy_distance":
        return {"value": float(divkit.energy_distance(_as_points(x), _as_points(y)))}
    kernel_kwargs = {"bandwidth": options["bandwidth"], "estimator": options["estimator"]}
    if metric == "mmd2":
        return {"value": float(divkit.mmd2(_as_points(x), _as_points(y), options["kernel"], rng=options["seed"],
                                           **kernel_kwargs))}
    test = divkit.mmd_test(
        _as_points(x),
        _as_points(y),
        options["kernel"],
        n_permutations=options["permutations"],
        rng=options["seed"],
        **kernel_kwargs,
    )
    return {
        "value": float(test.statistic),
        "test": {
            "statistic": test.statistic,
            "p_value": test.p_value,
            "method": test.method,
            "n_permutations": test.n_permutations,
            "kernel": test.kernel,
            "bandwidth": test.bandwidth,
            "estimator": test.estimator,
        },
    }


def _bandwidth(text: str):
    if text == "median":
        return "median"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'median', got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'median', got {text!r}")
    return value


# option -> metrics that accept it; everything else refuses it rather than ignoring it
_OPTION_METRICS = {
    "p": {"wasserstein", "sliced_wasserstein"},
    "ground_metric": {"wasserstein"},
    "normalize": set(HISTOGRAM_METRICS),
    "base": _WITH_BASE,
    "kernel": _KERNEL_METRICS,
    "bandwidth": _KERNEL_METRICS,
    "estimator": _KERNEL_METRICS,
    "permutations": {"mmd_test"},
    "projections": {"sliced_wasserstein"},
    "seed": {"mmd2", "mmd_test", "sliced_wasserstein"},
}
_DEFAULTS = {
    "p": None,  # the library's default order, 1
    "ground_metric": "euclidean",
    "normalize": False,
    "base": None,
    "kernel": "gaussian",
    "bandwidth": "median",
    "estimator": "unbiased",
    "permutations": 1000,
    "projections": 128,
    "seed": 0,
}


def _build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    from divkit import __version__

    parser = argparse.ArgumentParser(
        prog="divkit", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"divkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,compare}")
    demo = sub.add_parser(
        "demo",
        help="WGAN Example 1: KL, JS, TV, Hellinger and W1 for parallel segments",
        description="WGAN Example 1 (Arjovsky, Chintala & Bottou 2017): P0 uniform on {0} x [0,1], "
        "P_theta uniform on {theta} x [0,1]. KL and JS saturate once the supports separate; W1 = |theta|.",
        epilog=_JSON_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--json", action="store_true", help="print JSON instead of a table")
    demo.add_argument("--points", type=int, default=64, help="points per segment (default 64)")

    cmp = sub.add_parser(
        "compare",
        help="one number between two samples or histograms read from .npy, .csv or .txt files",
        description="Compute a divergence or distance between X and Y and print it.",
        epilog=_COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmp.add_argument("x", metavar="X", help="first sample or histogram (.npy, .csv or .txt)")
    cmp.add_argument("y", metavar="Y", help="second sample or histogram (.npy, .csv or .txt)")
    cmp.add_argument("--metric", required=True, choices=METRICS, metavar="NAME", help="what to compute (listed below)")
    cmp.add_argument("--json", action="store_true", help="print a JSON object with the number under 'value'")
    cmp.add_argument("--p", type=float, default=None, help="order of W_p (default 1)")
    cmp.add_argument(
        "--ground-metric",
        default=None,
        choices=("euclidean", "sqeuclidean", "cityblock", "chebyshev"),
        help="distance between points for wasserstein (default euclidean)",
    )
    cmp.add_argument(
        "--normalize", action="store_true", default=None, help="histograms: divide by their sums instead of refusing"
    )
    cmp.add_argument("--base", type=float, default=None, help="logarithm base (kl, js, ...; default e: nats)")
    cmp.add_argument("--kernel", default=None, help="MMD kernel: gaussian (default), laplacian, imq, energy, ...")
    cmp.add_argument("--bandwidth", type=_bandwidth, default=None, help="kernel bandwidth or 'median' (default)")
    cmp.add_argument(
        "--estimator", default=None, choices=("biased", "unbiased", "linear"), help="MMD^2 estimator (default unbiased)"
    )
    cmp.add_argument("--permutations", type=int, default=None, help="mmd_test permutations (default 1000)")
    cmp.add_argument("--projections", type=int, default=None, help="sliced_wasserstein directions (default 128)")
    cmp.add_argument("--seed", type=int, default=None,
                     help="random seed: the rng of mmd2 (median bandwidth), mmd_test and sliced_wasserstein (default 0)")
    return parser, cmp


def _run_compare(args, parser) -> int:
    metric = args.metric
    options = {}
    for option, metrics in _OPTION_METRICS.items():
        given = getattr(args, option)
        if given is not None and metric not in metrics:
            flag = "--" + option.replace("_", "-")
            parser.error(f"{flag} does not apply to --metric {metric} (it applies to: {', '.join(sorted(metrics))})")
        options[option] = _DEFAULTS[option] if given is None else given
    if options["p"] is None:
        options["p"] = 1.0
    try:
        x = load_array(args.x, "X")
        y = load_array(args.y, "Y")
    except InputFileError as err:
        print(f"divkit compare: error: {err}", file=sys.stderr)
        return 2
    try:
        result = compare(x, y, metric, options)
    except (ValueError, TypeError) as err:
        print(f"divkit compare: error: {err}", file=sys.stderr)
        return 1
    if args.json:
        payload = {
            "metric": metric,
            "value": result["value"],
            "x": {"path": args.x, "shape": list(x.shape)},
            "y": {"path": args.y, "shape": list(y.shape)},
            "options": {k: options[k] for k, ms in _OPTION_METRICS.items() if metric in ms},
        }
        payload.update({k: v for k, v in result.items() if k != "value"})
        print(_dumps(payload))
    else:
        print(repr(result["value"]))
    return 0


def main(argv=None) -> int:
    parser, compare_parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "compare":
        return _run_compare(args, compare_parser)
    if args.points < 1:
        parser.error("--points must be >= 1")
    rows = wgan_example_rows(n_points=args.points)
    if args.json:
        print(_dumps({"points": args.points, "rows": rows}))
    else:
        print(_format_table(rows, args.points))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
