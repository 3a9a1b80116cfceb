"""How the OPE runner is told which tracker to run, in a form that crosses process boundaries.

A spec is one of: a zoo name or config path (``"opencv_mil"``), a :class:`TrackerSpec` (name plus
constructor overrides), a zero-argument picklable factory (a module-level function or class), or a
ready :class:`~ientrack.trackers.base.Tracker` instance (copied into worker processes by pickling).
"""
from dataclasses import dataclass, field

from ientrack.trackers.base import Tracker
from ientrack.trackers.registry import build_tracker, load_config


@dataclass(frozen=True)
class TrackerSpec:
    """A zoo tracker name (or config path) and overrides for :func:`ientrack.build_tracker`."""

    name: str
    overrides: dict = field(default_factory=dict)

    def build(self) -> Tracker:
        return build_tracker(self.name, **self.overrides)


def as_spec(spec):
    """Normalise a string to a :class:`TrackerSpec`; other specs pass through after a type check."""
    if isinstance(spec, str):
        return TrackerSpec(spec)
    if isinstance(spec, (TrackerSpec, Tracker)) or callable(spec):
        return spec
    raise TypeError(f"a tracker spec is a name, a TrackerSpec, a factory or a Tracker, not {type(spec).__name__}")


def make_tracker(spec) -> Tracker:
    """The tracker a spec describes (a Tracker instance is returned as it is)."""
    spec = as_spec(spec)
    if isinstance(spec, Tracker):
        return spec
    tracker = spec.build() if isinstance(spec, TrackerSpec) else spec()
    if not isinstance(tracker, Tracker):
        raise TypeError(f"tracker factory {spec!r} returned {type(tracker).__name__}, not a Tracker")
    return tracker


def spec_name(spec) -> str:
    """The tracker's name without building it where the spec allows (zoo configs); else by building it."""
    spec = as_spec(spec)
    if isinstance(spec, TrackerSpec):
        return spec.overrides.get("name") or load_config(spec.name)["name"]
    return make_tracker(spec).name
