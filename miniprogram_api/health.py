"""Liveness: a bare JSON endpoint for load balancers (and the baseline of bench/cast_bench.py)."""
from flask import Blueprint as FlaskBlueprint

from miniprogram_api.common import blueprint

blp = blueprint("health", "Liveness")


def health():
    """{"status": "ok"} without touching the database."""
    return {"status": "ok"}


# Flask's own add_url_rule: the probe is for operators, not part of the mini-program's API contract,
# so it stays out of the OpenAPI spec (it has no input that the spec tests could vary).
FlaskBlueprint.add_url_rule(blp, "/health", "health", health, methods=["GET"])
