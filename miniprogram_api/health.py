"""Liveness: a bare JSON endpoint (load balancers; the baseline of bench/cast_bench.py)."""
import marshmallow as ma

from miniprogram_api.common import blueprint

blp = blueprint("health", "Liveness")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """{"status": "ok"} without touching the database."""
    return {"status": "ok"}
