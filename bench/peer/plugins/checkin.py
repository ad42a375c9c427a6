"""The peer's check-in: the same conversation Carebot's bench residents have.

"check in" -> mood (1-5) -> one question per active goal -> anything else? -> read-back,
confirm. Every turn, like Carebot's, is one SQLite transaction (WAL, synchronous=FULL, so the
commit is fsync'd) that records the answer and the conversation's new state, committed
before the reply is returned. The resident is looked up by chat address on each message.
One connection behind a lock: SQLite takes one writer at a time.
"""

import json
import os
import sqlite3
import threading
import time

from errbot import BotPlugin, re_botcmd

SCHEMA = """
CREATE TABLE IF NOT EXISTS residents (id INTEGER PRIMARY KEY, address TEXT UNIQUE NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS goals (id INTEGER PRIMARY KEY, resident_id INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (resident_id INTEGER PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, resident_id INTEGER NOT NULL,
    run INTEGER NOT NULL, answer_key TEXT NOT NULL, value TEXT NOT NULL, answered_ms INTEGER NOT NULL);
"""

YES = {"yes", "y", "yeah", "correct"}
NO = {"no", "n", "nope", "nothing"}


class CheckIn(BotPlugin):
    def activate(self):
        super().activate()
        self.db = sqlite3.connect(
            os.environ["PEER_DB"], check_same_thread=False, isolation_level=None
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        n = int(os.environ.get("PEER_RESIDENTS", "0"))
        if n and not self.db.execute("SELECT 1 FROM residents LIMIT 1").fetchone():
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO residents (id, address, name) VALUES (?, ?, ?)",
                ((i, f"r{i}", f"Resident {i}") for i in range(1, n + 1)),
            )
            self.db.execute("COMMIT")
        self.lock = threading.Lock()

    @re_botcmd(pattern=r"^(?P<text>.*)$", prefixed=False, flags=0)
    def turn(self, msg, match):
        text = match.group("text").strip().lower()
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                reply = self._step(msg.frm.person, text)
                self.db.execute("COMMIT")
            except Exception:
                self.db.execute("ROLLBACK")
                raise
        return reply

    def _step(self, address, text):
        row = self.db.execute(
            "SELECT id, name FROM residents WHERE address = ?", (address,)
        ).fetchone()
        if row is None:
            return "Sorry, I don't know this account."
        rid, name = row
        goals = self.db.execute(
            "SELECT id, text FROM goals WHERE resident_id = ? ORDER BY id", (rid,)
        ).fetchall()
        stored = self.db.execute(
            "SELECT state FROM conversations WHERE resident_id = ?", (rid,)
        ).fetchone()
        state = json.loads(stored[0]) if stored else {"run": 0, "step": None}
        now = int(time.time() * 1000)

        def keep(key, value):
            self.db.execute(
                "INSERT INTO answers (resident_id, run, answer_key, value, answered_ms) VALUES (?, ?, ?, ?, ?)",
                (rid, state["run"], key, value, now),
            )

        step = state["step"]
        if text == "check in":
            state = {"run": state["run"] + 1, "step": "mood", "goal": 0, "said": {}}
            reply = f"Good morning {name.split()[0]}! How are you feeling today, from 1 (low) to 5 (great)?"
        elif step == "mood":
            if text not in {"1", "2", "3", "4", "5"}:
                return "Please answer with a number from 1 to 5."
            keep("mood", text)
            state["said"]["mood"] = text
            state["step"] = "goal" if goals else "anything"
            reply = self._next_question(state, goals)
        elif step == "goal":
            goal_id, _ = goals[state["goal"]]
            keep(f"goal.{goal_id}", text)
            state["goal"] += 1
            if state["goal"] >= len(goals):
                state["step"] = "anything"
            reply = self._next_question(state, goals)
        elif step == "anything":
            keep("anything_else", text)
            state["said"]["anything_else"] = "" if text in NO else text
            state["step"] = "confirm"
            reply = f"Thank you. You told me: mood {state['said']['mood']}. Is that right?"
        elif step == "confirm":
            confirmed = text in YES
            keep("confirmed", json.dumps(confirmed))
            state["step"] = None
            reply = "Thank you, that's saved." if confirmed else "No problem, I'll let your keyworker know."
        else:
            return "Say 'check in' to start your check-in."
        self.db.execute(
            "INSERT INTO conversations (resident_id, state) VALUES (?, ?) "
            "ON CONFLICT (resident_id) DO UPDATE SET state = excluded.state",
            (rid, json.dumps(state)),
        )
        return reply

    @staticmethod
    def _next_question(state, goals):
        if state["step"] == "goal":
            return f"How did it go with your goal: {goals[state['goal']][1]}?"
        return "Is there anything else you'd like to tell me?"
