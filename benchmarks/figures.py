"""The shape of ``var/bench.json`` and the helpers every benchmark module uses to fill it.

``results`` (the dict each ``run(results)`` receives) looks like::

    {
      "generated_at": "...", "machine": {...}, "data": {...},
      "figures": {
        "escalation.sweep_seconds": {
          "label": "Escalation sweep, 100 000 overdue issues",
          "value": 12.3, "unit": "s",
          "baseline": {"label": "floor: one hand-written SQL statement", "value": 9.1},
          "ratio": 1.35,                      # value / baseline value
          "target": {"max_ratio": 2.0},       # or {"min_ratio": 50} / {"max_value": 0.5}
          "met": true
        }, ...
      }
    }
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["add_figure", "timed", "percentile"]


def add_figure(
    results: dict,
    key: str,
    *,
    label: str,
    value: float,
    unit: str = "s",
    baseline_label: str | None = None,
    baseline_value: float | None = None,
    target: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """Record one figure (with its baseline and ratio) and print it."""
    figure: dict = {"label": label, "value": round(value, 6), "unit": unit}
    ratio = None
    if baseline_value is not None:
        figure["baseline"] = {"label": baseline_label or "baseline", "value": round(baseline_value, 6)}
        ratio = value / baseline_value if baseline_value else None
        figure["ratio"] = round(ratio, 3) if ratio is not None else None
    if target:
        figure["target"] = target
        met = True
        if "max_ratio" in target:
            met &= ratio is not None and ratio <= target["max_ratio"]
        if "min_ratio" in target:
            met &= ratio is not None and ratio >= target["min_ratio"]
        if "max_value" in target:
            met &= value <= target["max_value"]
        figure["met"] = bool(met)
    if extra:
        figure.update(extra)
    results.setdefault("figures", {})[key] = figure
    line = f"  {label}: {value:,.3f} {unit}"
    if baseline_value is not None:
        line += f"  | {figure['baseline']['label']}: {baseline_value:,.3f} {unit}  | ratio {figure['ratio']}"
    if target:
        line += f"  | target {target} {'met' if figure['met'] else 'NOT met'}"
    print(line, flush=True)
    return figure


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall-clock seconds of one call, and its result."""
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (0–100) by linear interpolation."""
    if not values:
        raise ValueError("no values")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[max(0, min(98, round(pct) - 1))]
