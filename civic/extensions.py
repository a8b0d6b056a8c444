"""Extension singletons; bound to the app in create_app()."""
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from civic.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()
#: what is computed once per change of the data (civic.caching): in each process, or in
#: Redis when CACHE_REDIS_URL is set, shared by every app process and node
cache = Cache()
#: gzip/brotli/zstd for HTML, CSS, JS and JSON (QUALITY.md §5: ≤ 60 KB per first load)
compress = Compress()
#: limits are stored in RATELIMIT_STORAGE_URI (Redis in production); if that storage
#: fails, limits continue in memory rather than silently switching off. No X-RateLimit-*
#: headers on every answer (each would cost the storage one more round trip): a refusal
#: says when to retry (civic.errors).
limiter = Limiter(
    key_func=get_remote_address,
    in_memory_fallback_enabled=True,
    swallow_errors=False,
    headers_enabled=False,
)
