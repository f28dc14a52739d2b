# ruff: noqa: RUF002, RUF003 - reasons and formulas use × → − as DESIGN.md writes them
"""The monthly split: a budget over the open source projects a company depends on. Pure.

This package implements DESIGN.md "Allocation — the monthly split" over plain data; it
reads no database, no Flask state and no files. All money is integer minor units; every
step that decides money uses exact integer or ``Fraction`` arithmetic, so the same input
gives the same output on every machine, whatever the order of the candidates.

The steps, with the decisions the design leaves open:

1. **Candidates.** A candidate is dropped (and listed in ``omitted`` with the reason) when
   it is first-party (flag, or its owner is in ``first_party_owners``), excluded by the
   OSPO or by the policy (project, owner or ecosystem), used by no product, unclaimed
   under policy "skip", or unclaimed for ``hold_months`` months already under policy
   "hold" (step 5). Overrides take their fixed amount out of the budget here; the rest,
   the *pool*, is split among the remaining candidates.
2. **Weight** = Σ over products of ``decay^(depth−1)`` (shallowest depth per product;
   unknown depth counts as ``unknown_depth``) × risk multiplier × boost. The risk
   multiplier is ``1 + α·(risk/100 − 0.5)`` with an unknown risk counted as 50 (×1),
   floored at ``RISK_MULTIPLIER_FLOOR`` (0.01) so that a large α can never make a weight
   zero or negative; the floor keeps the multiplier non-decreasing in risk. The boost is
   the candidate's ``boost`` times the policy's ``boosts`` entry for it.
3. **Share, cap, minimum.** The pool is split in *granularity units* (``pool //
   granularity``; the indivisible rest is remainder). Each project gets
   ``min(cap, λ·weight)`` with one λ for all, chosen so the pool is used exactly; this is
   the fixed point of "re-spread the excess over the uncapped until none exceeds".
   The cap is ``cap·budget`` rounded *down* to the granularity, so rounding never lifts a
   line over it. When the projects are too few to place the pool under that cap (fewer
   than about 1/cap), the cap is relaxed to the smallest value that places it: for n
   projects ``max(cap·budget, pool/n)`` (pins count at their floor), and the lines are
   then equal except for rounding and pins. ``Proposal.cap`` is the cap applied. The
   minimum (``max(minimum, granularity)`` rounded *up* to the granularity, so rounding
   never drops a line under it) is applied DESIGN's way: while the smallest line is
   under it, the smallest project (lowest weight; on equal weight the later key) is
   dropped and the pool re-normalized (the cap is relaxed again if the projects left
   are too few).
4. **Rounding** by largest remainder in granularity units, ties to the earlier key.
   ``remainder`` = what could not be placed: the pool's part below one granularity step,
   or the whole pool when no project can be paid.
5. **Unclaimed.** Under "hold", an unclaimed project with ``months_held < hold_months``
   takes part in steps 2–4 like any other and its amount is reported in ``held`` instead
   of ``lines`` (reserved for its maintainers; the caller keeps the reserve). Once
   ``months_held >= hold_months`` — and at once under "skip" — it no longer takes part,
   so the share it would have had is re-spread over the others by step 3 itself. The
   engine decides this month's money only; releasing reserves of earlier months is the
   caller's job. Always: ``Σ lines + Σ held + remainder == budget``.
6. :func:`split_among_maintainers` splits one line among its maintainers (it lives in
   :mod:`service.money`, where the pledge exports use it too).

OSPO adjustments: ``override`` fixes a line's amount (a multiple of the granularity; may
be over the cap or under the minimum; 0 means "not this month"). ``pin_minimum``
guarantees at least that amount (rounded up to the granularity and to the minimum): the
project is never dropped for the minimum and its share is ``clamp(λ·weight, pin,
max(cap, pin))``. Overrides over the budget and pins over the pool are errors naming the
project.

Properties (tests/allocation/test_engine_properties.py checks them):

- exact sum, determinism and input-order independence: always;
- no line over the cap (overrides excepted; a pinned line may reach its pin), every line
  at or over the minimum (overrides excepted): always, exactly;
- a project's amount never decreases when only its own weight increases: exactly for
  the unrounded amounts (``Line.exact``), and exactly after rounding as long as the
  same projects are paid. When the larger weight pushes another project under the
  minimum, that project's money is re-spread and largest-remainder rounding can, in rare
  cases, cost the project one granularity step (the "new states" paradox of the
  largest-remainder method; Balinski and Young showed that no method keeping every line
  within one step of its exact share is free of such paradoxes). Tolerance: one
  granularity step, only when the set of paid projects changes.
- excluding a project never decreases another's amount: exactly for unrounded amounts
  and within one granularity step after rounding (the same paradox), as long as the
  exclusion does not bring back projects that the minimum had dropped. When it does,
  DESIGN's own minimum rule (keep every project that meets the minimum) makes them share
  the freed money and another line can get less, by more than one step (a worked case
  is in tests/allocation/test_engine.py); no rule that keeps every project meeting the
  minimum avoids this. In every case nobody paid before loses their line.
"""

from service.allocation.engine.model import (
    MAX_DEPTH,
    NEUTRAL_RISK,
    RISK_MULTIPLIER_FLOOR,
    AllocationError,
    Candidate,
    HeldEntry,
    Line,
    Omitted,
    ProductUse,
    Proposal,
)
from service.allocation.engine.split import allocate
from service.allocation.engine.weights import project_weight, risk_multiplier
from service.money import split_among_maintainers

__all__ = [
    "MAX_DEPTH",
    "NEUTRAL_RISK",
    "RISK_MULTIPLIER_FLOOR",
    "AllocationError",
    "Candidate",
    "HeldEntry",
    "Line",
    "Omitted",
    "ProductUse",
    "Proposal",
    "allocate",
    "project_weight",
    "risk_multiplier",
    "split_among_maintainers",
]
