"""ientrack: rotation-equivariant visual object tracking.

Implicit equivariance (IEN), exact subsampling and steerable baselines, and canonicalization, in
Siamese trackers that share one contract, one evaluation harness and one training loop.
"""
from ientrack.trackers.registry import available_trackers, build_tracker, zoo_dir

__version__ = "0.1.0"
__all__ = ["build_tracker", "available_trackers", "zoo_dir", "__version__"]
