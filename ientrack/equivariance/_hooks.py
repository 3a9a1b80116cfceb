"""Record what chosen layers of a model see and produce during one forward pass."""
from contextlib import contextmanager

import torch
import torch.nn as nn


def _plain(value):
    """The tensor inside an e2cnn ``GeometricTensor`` (or the value itself)."""
    return value.tensor if hasattr(value, "tensor") else value


@contextmanager
def record_layers(model: nn.Module, select):
    """Yield a list that fills with ``(label, module, input, output)`` per call of each selected module.

    ``select(name, module) -> bool`` picks the modules; a module called twice gets labels
    ``name`` and ``name#2``. Outputs are cloned, so an in-place op after the layer (``ReLU(inplace=True)``)
    does not change what was recorded. Hooks are removed on exit.
    """
    records, calls = [], {}

    def hook_for(name):
        def hook(module, inputs, output):
            calls[name] = calls.get(name, 0) + 1
            label = name if calls[name] == 1 else f"{name}#{calls[name]}"
            records.append((label, module, _plain(inputs[0]), _plain(output).clone()))
        return hook

    handles = [module.register_forward_hook(hook_for(name or type(module).__name__))
               for name, module in model.named_modules() if select(name, module)]
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def eval_mode(model: nn.Module):
    """Run ``model`` in eval mode without gradients, then restore its training flag."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)
