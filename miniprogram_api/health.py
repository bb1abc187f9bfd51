"""Liveness: a bare JSON endpoint for load balancers (and the baseline of bench/cast_bench.py)."""
import marshmallow as ma

from miniprogram_api.common import blueprint

blp = blueprint("health", "Liveness")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"enum": ["ok"]})


# Documented by hand rather than with @blp.response: the probe stays a bare function returning a dict
# (no schema dump), as cheap as a route can be.
@blp.route("/health", methods=["GET"])
@blp.doc(responses={"200": {"description": "alive", "content": {"application/json": {"schema": HealthSchema}}}})
def health():
    """{"status": "ok"} without touching the database."""
    return {"status": "ok"}
