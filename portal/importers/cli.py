from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import listings from other directories.")
