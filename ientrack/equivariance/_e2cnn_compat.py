"""Make e2cnn 0.2.3 run under NumPy 2, and with several models in one process.

Two NumPy 2 changes break building reflection (dihedral, ``FlipRot2dOnR2``) convolutions:
- the kernel bases hash their frequency arrays with ``ndarray.tostring()``, removed in NumPy 2
  (``AttributeError: 'numpy.ndarray' object has no attribute 'tostring'``): those ``__hash__`` methods
  are replaced with equivalents that use ``tobytes()`` (the same bytes);
- ``e2cnn.kernels.utils`` calls ``np.array(x, copy=False)``, which NumPy 2 turned into "never copy"
  (``ValueError: Unable to avoid copy``): that module gets a NumPy whose ``array`` maps ``copy=False``
  to NumPy 2's ``copy=None`` (copy only if needed), NumPy 1's meaning.

And one e2cnn behaviour that breaks any process building two models:
- every convolution with the same kernel basis shares ONE cached basis-expansion module (with its
  sampled-basis buffers) from a process-wide dictionary, so moving one model to the GPU or to float64
  moves the buffers of every other model built before or after it (found on a GPU: resuming a
  canonicalizer's training built a second model whose CPU weights met CUDA bases, "Expected all tensors
  to be on the same device"): each convolution now gets its own copy of the cached module (the costly
  sampling is still done once; the steerable AlexNet holds 0.3% more buffer elements).
Import :func:`import_e2cnn` instead of ``e2cnn`` directly; the patch is applied once.

Not patched (unused here): ``np.float`` in ``e2cnn.group.groups.o2group`` (continuous O(2) only).
"""
import copy
import warnings

import numpy as np


def _as_bytes(value):
    return value.tobytes() if isinstance(value, np.ndarray) else value


def _irrep_basis_hash(self):
    return (hash(self.in_irrep) + hash(self.out_irrep)
            + hash(_as_bytes(self.mu)) + hash(_as_bytes(self.gamma)))


class _NumpyWithOldCopyFalse:
    """``numpy`` itself, except ``array(..., copy=False)`` copies only if needed (the NumPy 1 meaning)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def array(obj, *args, copy=True, **kwargs):
        return np.array(obj, *args, copy=None if copy is False else copy, **kwargs)


def _private_copies(cached_expansion):
    """``block_basisexpansion`` that hands each caller its own copy of the cached module."""

    def expansion(*args, **kwargs):
        return copy.deepcopy(cached_expansion(*args, **kwargs))

    return expansion


def _patch():
    from e2cnn.kernels import irreps_basis, utils
    from e2cnn.nn.modules.r2_conv import basisexpansion_blocks

    utils.np = _NumpyWithOldCopyFalse()
    basisexpansion_blocks.block_basisexpansion = _private_copies(basisexpansion_blocks.block_basisexpansion)

    for name in ("R2FlipsSolution", "R2ContinuousRotationsSolution",
                 "R2FlipsDiscreteRotationsSolution", "R2FlipsContinuousRotationsSolution"):
        getattr(irreps_basis, name).__hash__ = _irrep_basis_hash


_patched = False


def import_e2cnn():
    """Return ``(gspaces, e2cnn.nn)`` with the NumPy 2 patch applied."""
    global _patched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e2cnn's own deprecation noise at import
        from e2cnn import gspaces
        from e2cnn import nn as enn
    if not _patched:
        _patch()
        _patched = True
    return gspaces, enn
