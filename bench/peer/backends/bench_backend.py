"""A minimal errbot backend for benchmarking: errbot's Text backend, for many senders.

The Text backend talks to one person at a terminal; the load needs many. Each stdin line is
``<sender>\t<text>``; each reply is written as ``R\t<sender>\t<text>`` on stdout (other
output is ignored by the harness). Everything else (matching commands, the thread pool that
runs them, plugins) is errbot's own.
"""

import sys
import threading

from errbot.backends.base import Message
from errbot.backends import text  # the module, so errbot finds one backend class here


class BenchBackend(text.TextBackend):
    def __init__(self, config):
        super().__init__(config)
        self._out = threading.Lock()

    def send_message(self, msg):
        body = msg.body.replace("\n", " ")
        with self._out:
            sys.stdout.write(f"R\t{msg.to.person}\t{body}\n")
            sys.stdout.flush()

    def serve_forever(self):
        self.connect_callback()
        try:
            for line in sys.stdin:
                sender, _, text = line.rstrip("\n").partition("\t")
                msg = Message(text)
                msg.frm = self.build_identifier("@" + sender)
                msg.to = self.bot_identifier
                self.callback_message(msg)
        finally:
            self.disconnect_callback()
            self.shutdown()
