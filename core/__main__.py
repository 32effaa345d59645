from lmsbridge.core.cli import run

run()
