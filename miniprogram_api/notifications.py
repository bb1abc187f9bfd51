"""Subscribe-message template ids for the mini-program (from WECHAT_TEMPLATES)."""
import marshmallow as ma

from backend.security import current_user
from backend.services import notifications as service
from miniprogram_api.common import BEARER, blueprint

blp = blueprint("notifications", "Subscribe messages")


class TemplateSchema(ma.Schema):
    event = ma.fields.String(required=True, metadata={"enum": list(service.EVENTS)})
    template_id = ma.fields.String(required=True, metadata={"description": "the WeChat template id"})


class TemplatesSchema(ma.Schema):
    templates = ma.fields.List(ma.fields.Nested(TemplateSchema), required=True)


@blp.route("/notifications/templates", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, TemplatesSchema)
def templates():
    """The subscribe-message template id of each event that has one configured (any logged-in user)."""
    return {"templates": service.templates(current_user())}
