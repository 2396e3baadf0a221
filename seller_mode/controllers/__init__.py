from . import webhook
from . import image
from . import connect
