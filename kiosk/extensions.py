"""Flask extensions, created unbound here and bound in create_app.

The rate limiter is not among them: each app gets its own (kiosk/ratelimit.py).
"""

from flask_babel import Babel
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
