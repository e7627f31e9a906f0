#!/usr/bin/python3
"""chat_seed.py — a large chat history written straight into SQLite, for
bench/chat.sh (c).

  chat_seed.py DATABASE [CONVERSATIONS_PER_USER] [MESSAGES_PER_USER] [BIG] [SEED]
      (defaults 1000, 100000, 2, 1)

DATABASE has been migrated (`chatbot db upgrade`) and already holds the
users (registered through the API, so they can sign in); every user gets
CONVERSATIONS_PER_USER conversations and MESSAGES_PER_USER messages, BIG of
those conversations with 5,000 messages each and the rest spread over the
others (2 to ~180 each). With 10 users that is 10,000 conversations and
1,000,000 messages.

Texts are sentences drawn from a Zipf-distributed vocabulary of 50,000
words (the project's own documentation, most frequent first, then made-up
words for the long tail), so full-text search has realistic work: the most
common words occur in most messages, tail words in a few dozen. User
messages are short (3-30 words), replies longer (10-200). The FTS5 tables
are filled by the schema's own triggers as the rows go in.

Prints `key value` lines: counts, the seconds taken, one 5,000-message
conversation of the first user, and words to search for with the number of
messages containing each (over all users and for the first user).
"""
import glob
import itertools
import os
import random
import re
import sqlite3
import sys
import time
from collections import Counter

VOCAB = 50_000
BIG_SIZE = 5_000
DAY_MS = 86_400_000


def vocabulary(rng):
    """Words by rank: the docs' words by frequency, then syllable words."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    counts = Counter()
    for path in glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True) + \
            [os.path.join(root, "README.md")]:
        try:
            with open(path, encoding="utf-8") as f:
                counts.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", f.read()))
        except OSError:
            pass
    words = [w for w, _ in counts.most_common()]
    seen = set(words)
    syll = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "fi", "an", "os", "ber", "nu",
            "qui", "zet", "mar", "pel", "rho", "sti", "gan", "wex", "yul", "bri", "cos"]
    while len(words) < VOCAB:
        w = "".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words[:VOCAB]


class Text:
    def __init__(self, rng, words):
        self.rng = rng
        self.words = words
        self.cum = list(itertools.accumulate(1.0 / r for r in range(1, len(words) + 1)))
        self.pool = []

    def draw(self, n):
        if len(self.pool) < n:
            self.pool += self.rng.choices(self.words, cum_weights=self.cum, k=max(n, 200_000))
        out = self.pool[-n:]
        del self.pool[-n:]
        return out

    def sentences(self, n):
        ws = self.draw(n)
        out, i = [], 0
        while i < n:
            k = min(n - i, self.rng.randint(6, 16))
            s = ws[i:i + k]
            s[0] = s[0].capitalize()
            if k > 8 and self.rng.random() < 0.3:
                s[k // 2] += ","
            out.append(" ".join(s) + self.rng.choice(".....?!"))
            i += k
        return " ".join(out)


def sizes_for(rng, convs, messages, big):
    rest = messages - big * BIG_SIZE
    small = convs - big
    sizes = [rng.randint(2, 2 * rest // small - 2) for _ in range(small)]
    diff = rest - sum(sizes)
    i = 0
    while diff:                         # nudge to the exact total, keeping >= 2
        step = 1 if diff > 0 else -1
        if sizes[i % small] + step >= 2:
            sizes[i % small] += step
            diff -= step
        i += 1
    sizes[:0] = [BIG_SIZE] * big
    rng.shuffle(sizes)
    return sizes


def main():
    db_path = sys.argv[1]
    per_user = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    msgs_per_user = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    big = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    words = vocabulary(rng)
    text = Text(rng, words)
    t0 = time.monotonic()
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    users = [r[0] for r in db.execute("SELECT id FROM users ORDER BY id")]
    if not users:
        sys.exit("chat_seed: no users in the database")
    now = int(time.time() * 1000)
    big_of_first = None
    n_conv = n_msg = 0
    for uid in users:
        db.execute("BEGIN")
        sizes = sizes_for(rng, per_user, msgs_per_user, big)
        start = now - 365 * DAY_MS
        for k, size in enumerate(sizes):
            created = start + k * (365 * DAY_MS // per_user)
            title = " ".join(text.draw(rng.randint(2, 6))).capitalize()
            pinned = 1 if k % 300 == 7 else 0
            # Messages every ~20 s from the conversation's start.
            times = [created + j * 20_000 + rng.randint(0, 9_999) for j in range(size)]
            cid = db.execute(
                "INSERT INTO conversations (user_id, title, model, pinned, created_at, updated_at)"
                " VALUES (?, ?, 'builtin', ?, ?, ?)",
                (uid, title, pinned, created, times[-1])).lastrowid
            rows = []
            for j in range(size):
                user_turn = j % 2 == 0
                if user_turn:
                    n = rng.randint(3, 30)
                else:
                    n = rng.randint(10, 60) if rng.random() < 0.7 else rng.randint(60, 200)
                rows.append((cid, uid, "user" if user_turn else "assistant",
                             text.sentences(n), times[j]))
            db.executemany(
                "INSERT INTO messages (conversation_id, user_id, role, content, status, created_at)"
                " VALUES (?, ?, ?, ?, 'complete', ?)", rows)
            if size == BIG_SIZE and uid == users[0] and big_of_first is None:
                big_of_first = cid
            n_conv += 1
            n_msg += size
        db.execute("COMMIT")
        print(f"seeded user {uid}: {n_conv} conversations, {n_msg} messages,"
              f" {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    print("users", len(users))
    print("conversations", n_conv)
    print("messages", n_msg)
    print("seed_seconds", round(time.monotonic() - t0, 1))
    print("big_conversation", big_of_first)
    # Words to search for: document frequencies from the FTS index itself.
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, messages_fts, 'row')")
    for label, rank in (("word_top", 1), ("word_common", 40), ("word_rare", 40_000)):
        w = words[rank - 1]
        docs = db.execute("SELECT doc FROM temp.vocab WHERE term = ?", (w,)).fetchone()
        mine = db.execute("SELECT count(*) FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                          " WHERE messages_fts MATCH ? AND m.user_id = ?",
                          (f'"{w}"', users[0])).fetchone()[0]
        print(label, w, docs[0] if docs else 0, mine)
    db.close()


if __name__ == "__main__":
    main()
