"""Maximum mean discrepancy: kernels, MMD^2 estimators, energy distance, two-sample tests."""

from divkit.mmd.estimators import energy_distance, mmd2
from divkit.mmd.kernels import KERNELS, median_bandwidth
from divkit.mmd.testing import MMDTestResult, mmd_test

__all__ = ["mmd2", "energy_distance", "mmd_test", "MMDTestResult", "median_bandwidth", "KERNELS"]
