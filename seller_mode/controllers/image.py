import base64

from odoo import http
from odoo.http import request
from odoo.tools import consteq


class SellerImageController(http.Controller):
    """Product images at stable public URLs that stores download."""

    @http.route("/seller_mode/image/<string:token>/<string:checksum>", type="http", auth="public",
                methods=["GET"], save_session=False)
    def seller_image(self, token, checksum, **kwargs):
        template_id, _sep, _signature = token.partition("-")
        if not template_id.isdigit():
            raise request.not_found()
        template = request.env["product.template"].sudo().browse(int(template_id)).exists()
        if not template or not consteq(template._seller_image_token(), token) or not template.image_1920:
            raise request.not_found()
        data = base64.b64decode(template.image_1920)
        mimetype = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        # The checksum is part of the URL: a new image has a new URL, so this one may be cached for long.
        return request.make_response(data, headers=[
            ("Content-Type", mimetype), ("Cache-Control", "public, max-age=604800"),
        ])
