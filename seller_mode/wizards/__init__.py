from . import seller_share_wizard
