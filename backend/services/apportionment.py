"""Splitting a shared cost into per-part shares that add up exactly to the total (docs/disclosures.md
"Five disclosures": shared utility cost apportionment, rounding rule stated).

Integer arithmetic only. The rule is the largest-remainder method (Hamilton): every part first gets
the floor of its exact share `total × weight / Σweight`; the fen left over (fewer than the number of
parts) go one each to the parts with the largest remainders; equal remainders go to the part that
comes first in the given order (the caller passes parts in registry order, i.e. by part id).
So the shares sum to the total and each differs from its exact value by less than one fen.
"""

METHODS = ("by_area", "equal", "metered")
ROUNDING_RULE = "largest_remainder"


def largest_remainder(total, weights):
    """Shares of `total` (fen) proportional to `weights`, summing exactly to `total`."""
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and not empty")
    whole = sum(weights)
    if whole == 0:
        raise ValueError("weights must not all be zero")
    floors, remainders = [], []
    for weight in weights:
        quotient, remainder = divmod(total * weight, whole)
        floors.append(quotient)
        remainders.append(remainder)
    left = total - sum(floors)
    # Sorted by remainder, largest first; Python's sort is stable, so ties keep the given order.
    for index in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
        floors[index] += 1
    return floors


def split(total, method, areas):
    """Shares by `method` ("by_area" weights by area, "equal" one weight per part)."""
    if method == "by_area":
        return largest_remainder(total, areas)
    if method == "equal":
        return largest_remainder(total, [1] * len(areas))
    raise ValueError(f"method {method!r} is not computed by the server")


def monthly_fee(area, price_fen):
    """Fee in fen of `area` (0.01 m²) at `price_fen` per m² per month: round half up to the fen."""
    return (area * price_fen + 50) // 100
