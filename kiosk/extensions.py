"""Flask extensions, created unbound here and bound in create_app."""

from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

from kiosk.ratelimit import AppLimiter, log_breach

babel = Babel()
csrf = CSRFProtect()
limiter = AppLimiter(key_func=get_remote_address, default_limits=[], on_breach=log_breach)
