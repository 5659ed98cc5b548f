import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_search.settings")
application = get_wsgi_application()
# What loading made (Django, DRF, the apps) lives as long as the process: out of every later garbage collection,
# which then scans only what requests allocate (shorter pauses in the middle of a search).
gc.freeze()
