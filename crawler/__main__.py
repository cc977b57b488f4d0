import os
import sys

# Scrapy finds the project's settings through scrapy.cfg in the current folder or above; installed with pip
# and run from another folder, there is none, so name them (a value the user set wins).
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")

from crawler.cli import main  # noqa: E402  (after the settings module is named)

sys.exit(main())
