"""errbot configuration for the benchmark peer (see README.md). Paths come from the
environment the harness sets: PEER_DATA (a fresh folder), PEER_DB (the SQLite file)."""

import logging
import os

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = "Bench"
BOT_EXTRA_BACKEND_DIR = os.path.join(HERE, "backends")
BOT_EXTRA_PLUGIN_DIR = os.path.join(HERE, "plugins")
BOT_DATA_DIR = os.environ.get("PEER_DATA", "/tmp/carebot-peer-data")
BOT_LOG_FILE = os.path.join(BOT_DATA_DIR, "errbot.log")
BOT_LOG_LEVEL = logging.WARNING
BOT_ADMINS = ("@bench-admin",)
BOT_IDENTITY = {"username": "@carebot-peer"}
BOT_PREFIX = "!"
# Off: with it on, errbot reads a bare number ("4", a mood) as "repeat command #4".
BOT_PREFIX_OPTIONAL_ON_CHAT = False
BOT_ASYNC = True
BOT_ASYNC_POOLSIZE = 10
CORE_PLUGINS = ("ACLs", "CommandNotFoundFilter", "Help", "Health", "Plugins", "Utils")
SUPPRESS_CMD_NOT_FOUND = True
