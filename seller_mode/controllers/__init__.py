from . import webhook
from . import image
from . import connect
from . import portal
