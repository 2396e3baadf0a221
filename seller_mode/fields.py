from odoo import fields


class BigInteger(fields.Integer):
    """An integer stored as PostgreSQL ``int8``: transaction ids (``xid8``)
    outgrow ``int4``."""

    _column_type = ("int8", "int8")
