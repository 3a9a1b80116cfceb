"""Field specs of classification networks: how many channels each layer has and how they pool.

Every classifier of :mod:`ientrack.models.cls_models` is built from a list of *base widths* (the
channel counts of the plain network) and a field-spec kind:

- ``homog``: each layer keeps its base width, split into fields of the group's order (R4: 4 channels).
- ``hetero``: each layer gets :func:`ientrack.equivariance.hetero_widths` of its base width, mixed
  orders. The default for a group of order 4 is the IEN paper's R4 layout: orders (4, 2, 1) with field
  counts in the ratio 2 : 1 : 1 and 31.25% fewer channels, which turns CNNBasic's 128 / 192 / 256 / 384 /
  512 channels into exactly the paper's 88 / 132 / 176 / 264 / 352. Other orders N use (N, N/2, ..., 1),
  equal field counts and 30% fewer channels (``hetero_widths``' defaults); ``hetero=`` overrides.
- ``plain``: fields of order 1 (pooling is the identity; a network with no group structure).

The model declares the specs as its ``fields`` (a :class:`BuiltFields`: ``model.fields(group)`` gives
tapped layer name -> :class:`FieldSpec`, the one declaration :mod:`ientrack.equivariance.ien_loss` reads),
and pools its last feature map by its spec (:class:`FieldPool`) before the classifier.
"""
import torch
import torch.nn as nn

from ientrack.equivariance import FieldSpec, PlanarGroup, group_from_name, hetero_widths

FIELD_SPEC_KINDS = ("homog", "hetero", "plain")


def default_hetero(order: int) -> dict:
    """Keyword arguments of ``hetero_widths`` for a group of ``order`` (see the module docstring)."""
    if order == 4:
        return {"orders": (4, 2, 1), "ratio": (2, 1, 1), "reduction": 0.3125}
    orders = [order]
    while orders[-1] % 2 == 0 and orders[-1] > 1:
        orders.append(orders[-1] // 2)
    if orders[-1] != 1:
        orders.append(1)
    return {"orders": tuple(orders), "ratio": (1,) * len(orders), "reduction": 0.3}


def width_fields(widths, group: str | PlanarGroup = "C4", kind: str = "homog", hetero: dict | None = None) -> list:
    """One :class:`FieldSpec` per base width in ``widths`` (see the module docstring for ``kind``)."""
    group = group_from_name(group) if isinstance(group, str) else group
    if kind == "homog":
        return [FieldSpec.homogeneous(int(w), group.order) for w in widths]
    if kind == "plain":
        return [FieldSpec.homogeneous(int(w), 1) for w in widths]
    if kind == "hetero":
        options = {**default_hetero(group.order), **(hetero or {})}
        return [hetero_widths(int(w), **options) for w in widths]
    raise ValueError(f"unknown field spec {kind!r}; choose one of {FIELD_SPEC_KINDS}")


class BuiltFields:
    """The fields of a network built for one group: ``{layer name: FieldSpec}``, declared as the network's
    ``fields`` attribute and called as every network's ``fields(group)`` is. Fields of orders dividing
    ``|G|``, the largest ``|G|`` (or all scalar fields, order 1), are fields of ``G``; another group is an error."""

    def __init__(self, specs: dict[str, FieldSpec]):
        self.specs = dict(specs)

    def __call__(self, group: PlanarGroup) -> dict[str, FieldSpec]:
        orders = sorted({k for spec in self.specs.values() for k, _ in spec.groups})
        if any(group.order % k for k in orders) or orders[-1] not in (1, group.order):
            raise ValueError(f"fields of orders {orders} were built for another group than {group.name} "
                             f"(order {group.order})")
        return dict(self.specs)


class FieldPool(nn.Module):
    """Max over each field's channels (:meth:`FieldSpec.pool`) as a module."""

    def __init__(self, spec: FieldSpec):
        super().__init__()
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spec.pool(x)

    def extra_repr(self):
        return f"groups={self.spec.groups}"


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
