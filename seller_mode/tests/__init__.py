from . import test_prices
from . import test_allocation
from . import test_share_rules
from . import test_stock_change
from . import test_access
from . import test_catalog_push
from . import test_live_stock
from . import test_orders
