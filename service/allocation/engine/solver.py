# ruff: noqa: RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""Step 3 and 4: the capped, minimum-respecting proportional split, and its rounding."""

from __future__ import annotations

import math
from fractions import Fraction

from service.allocation.engine.weights import Member


class Solver:
    """Capped, minimum-respecting proportional split of ``units`` over integer weights.

    ``free`` members are sorted by weight descending (equal weights: earlier key first),
    so "the k largest" is a prefix and the smallest of a prefix is its last member. A
    pinned member has a floor ``lo`` and is never dropped. Amounts are
    ``min(C, λ·w)`` (free) and ``clamp(λ·w, lo, max(C, lo))`` (pinned).
    """

    def __init__(
        self,
        free: list[int],
        pinned: list[tuple[int, int]],
        units: int,
        base_cap: int,
        minimum: int,
    ):
        self.w = free
        self.prefix = [0]
        for weight in free:
            self.prefix.append(self.prefix[-1] + weight)
        self.pinned = pinned
        self.los_desc = sorted((lo for _, lo in pinned), reverse=True)
        self.units = units
        self.base_cap = base_cap
        self.minimum = minimum

    def cap(self, k: int) -> tuple[Fraction, bool]:
        """The cap for the k largest free members plus the pinned; relaxed if too few."""
        needed = self._smallest_cap(k)
        if needed > self.base_cap:
            return needed, True
        return Fraction(self.base_cap), False

    def _smallest_cap(self, k: int) -> Fraction:
        """The least C with k·C + Σ max(C, lo) ≥ units: the cap that still places the pool."""
        los = self.los_desc
        if sum(los) >= self.units or k + len(los) == 0:
            return Fraction(0)
        taken = 0
        for t in range(len(los) + 1):
            # Suppose exactly the t largest floors are above C: solve linearly and check.
            slots = k + len(los) - t
            if slots > 0:
                c = Fraction(self.units - taken, slots)
                above = los[t - 1] if t > 0 else None
                below = los[t] if t < len(los) else 0
                if c >= below and (above is None or c <= above):
                    return c
            if t < len(los):
                taken += los[t]
        raise AssertionError("no cap places the pool")  # pragma: no cover - f is continuous

    def _capped(self, lam: Fraction, k: int, cap: Fraction) -> int:
        """How many of the k largest free members reach the cap at λ (a prefix)."""
        lo, hi = 0, k
        while lo < hi:
            mid = (lo + hi) // 2
            if lam * self.w[mid] >= cap:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _total(self, lam: Fraction, k: int, cap: Fraction) -> Fraction:
        t = self._capped(lam, k, cap)
        total = cap * t + lam * (self.prefix[k] - self.prefix[t])
        for weight, lo in self.pinned:
            total += min(max(lam * weight, Fraction(lo)), _ceiling(cap, lo))
        return total

    def solve(self, k: int) -> tuple[Fraction, bool, Fraction | None]:
        """(cap, relaxed, λ) for the k largest free members; λ None = all at their cap."""
        cap, relaxed = self.cap(k)
        saturated = cap * k + sum(_ceiling(cap, lo) for _, lo in self.pinned)
        if saturated == self.units:
            return cap, relaxed, None
        # The total is continuous and non-decreasing in λ and piecewise linear between
        # breakpoints (a free member reaching the cap; a pinned one leaving its floor or
        # reaching its ceiling). Find the piece where it crosses `units`, then solve it.
        units = self.units

        def fits(lam: Fraction) -> bool:
            return self._total(lam, k, cap) <= units

        lo, hi = 0, k  # free breakpoints cap/w[i] ascend with i
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(cap / self.w[mid]):
                lo = mid + 1
            else:
                hi = mid
        start = cap / self.w[lo - 1] if lo > 0 else Fraction(0)
        end = cap / self.w[lo] if lo < k else None
        points = sorted(
            {
                p
                for weight, floor in self.pinned
                for p in (Fraction(floor, weight), _ceiling(cap, floor) / weight)
                if p > start and (end is None or p < end)
            }
        )
        lo, hi = 0, len(points)
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(points[mid]):
                lo = mid + 1
            else:
                hi = mid
        if lo > 0:
            start = points[lo - 1]
        if lo < len(points):
            end = points[lo]
        # Inside (start, end) every member is either constant or linear in λ.
        probe = (start + end) / 2 if end is not None else start + 1
        t = self._capped(probe, k, cap)
        constant = cap * t
        slope = self.prefix[k] - self.prefix[t]
        for weight, floor in self.pinned:
            value = probe * weight
            if value <= floor:
                constant += floor
            elif value >= _ceiling(cap, floor):
                constant += _ceiling(cap, floor)
            else:
                slope += weight
        lam = start if slope == 0 else (units - constant) / slope
        return cap, relaxed, lam

    def feasible(self, k: int) -> bool:
        """Whether the smallest of the k largest free members meets the minimum."""
        if k == 0:
            return True
        cap, _, lam = self.solve(k)
        smallest = cap if lam is None else min(cap, lam * self.w[k - 1])
        return smallest >= self.minimum

    def kept(self) -> int:
        """DESIGN's "drop the smallest until every line meets the minimum", as a count.

        Dropping a project never lowers another's share, so feasibility is monotone in
        k and the first feasible k from the top (what dropping one by one finds) is the
        largest feasible k: a binary search finds it in O(log n) solves.
        """
        lo, hi = 0, len(self.w)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.feasible(mid):
                lo = mid
            else:
                hi = mid - 1
        return lo


def _ceiling(cap: Fraction, floor: int) -> Fraction:
    """A pinned member's upper bound: the cap, or its floor when that is higher."""
    return cap if cap >= floor else Fraction(floor)


def round_shares(
    paid: list[Member], cap: Fraction, lam: Fraction | None, units: int
) -> tuple[list[Fraction], list[int]]:
    """Exact shares (in units) and their largest-remainder rounding, ties to the earlier key."""
    lam_value = lam if lam is not None else Fraction(0)
    common = math.lcm(cap.denominator, lam_value.denominator)
    cap_scaled = cap.numerator * (common // cap.denominator)
    lam_factor = lam_value.numerator * (common // lam_value.denominator)
    scaled: list[int] = []
    for member in paid:
        ceiling = max(cap_scaled, member.lo * common)
        value = (
            ceiling
            if lam is None
            else min(max(member.scaled * lam_factor, member.lo * common), ceiling)
        )
        scaled.append(value)
    assert sum(scaled) == units * common, "the exact shares must use the pool exactly"
    floors = [value // common for value in scaled]
    leftover = units - sum(floors)
    order = sorted(range(len(paid)), key=lambda i: (-(scaled[i] % common), paid[i].candidate.key))
    for i in order[:leftover]:
        floors[i] += 1
    return [Fraction(value, common) for value in scaled], floors
