#!/usr/bin/python3
"""ui_seed.py — one long conversation written straight into the instance's
SQLite file, for bench/ui.mjs (issue 5's scrolling benchmark).

  ui_seed.py DATABASE CONVERSATION_ID USER_ID [MESSAGES] [SEED]   (2000, 5)

The conversation already exists (made through the API, so it is the
user's and in their list); this adds MESSAGES messages to it, alternating
user and assistant, oldest first. Replies look like what a chat model
writes: paragraphs, bullet and numbered lists, inline code, and every few
replies a fenced code block (python, javascript, c, bash, json, sql) or a
table, so opening and scrolling render Markdown, sanitise it and
highlight code as they would for a real history. The FTS5 tables are
filled by the schema's own triggers. Prints `key value` lines.
"""
import random
import sqlite3
import sys
import time

WORDS = ("the a of to and in is it that for on with as this be are by not or from at "
         "server request session token list page cache build test query index table "
         "message reply conversation stream model prompt user account password login "
         "value field error result file path config option default limit cursor order "
         "function return string number array object loop thread memory buffer socket "
         "quickly carefully usually often simply instead however because although then "
         "fast small large clear simple robust careful precise stable modern plain").split()

CODE = {
    "python": "def reverse(items):\n    \"\"\"Return a new list in reverse order.\"\"\"\n"
              "    out = []\n    for i in range(len(items) - 1, -1, -1):\n        out.append(items[i])\n"
              "    return out\n\n\nprint(reverse([1, 2, 3]))  # [3, 2, 1]\n",
    "javascript": "export async function load(url, { signal } = {}) {\n  const r = await fetch(url, { signal });\n"
                  "  if (!r.ok) throw new Error(`HTTP ${r.status}`);\n  return r.json();\n}\n\n"
                  "const items = await load('/api/v1/conversations?limit=50');\nconsole.log(items.length);\n",
    "c": "#include <stdio.h>\n#include <string.h>\n\nstatic void reverse(char *s)\n{\n"
         "    size_t n = strlen(s);\n    for (size_t i = 0; i < n / 2; i++) {\n        char t = s[i];\n"
         "        s[i] = s[n - 1 - i];\n        s[n - 1 - i] = t;\n    }\n}\n\nint main(void)\n{\n"
         "    char buf[] = \"hello\";\n    reverse(buf);\n    puts(buf);\n    return 0;\n}\n",
    "bash": "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.log; do\n"
            "  gzip -9 \"$f\" && echo \"compressed $f\"\ndone\ncurl -sS https://127.0.0.1:8443/api/v1/health | jq .\n",
    "json": "{\n  \"id\": 42,\n  \"title\": \"Trip ideas\",\n  \"pinned\": false,\n"
            "  \"model\": \"builtin\",\n  \"updated_at\": \"2026-12-04T21:00:00.000Z\"\n}\n",
    "sql": "SELECT c.id, c.title, count(m.id) AS messages\n  FROM conversations c\n"
           "  LEFT JOIN messages m ON m.conversation_id = c.id\n WHERE c.user_id = ?\n"
           " GROUP BY c.id\n ORDER BY c.updated_at DESC\n LIMIT 50;\n",
}


def sentence(rng, lo=6, hi=18):
    ws = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.3:
        ws[rng.randrange(len(ws))] = f"`{rng.choice(WORDS)}_{rng.choice(WORDS)}()`"
    if rng.random() < 0.2:
        ws[rng.randrange(len(ws))] = f"**{rng.choice(WORDS)}**"
    return " ".join(ws).capitalize() + "."


def paragraph(rng, n=None):
    return " ".join(sentence(rng) for _ in range(n or rng.randint(2, 5)))


def user_message(rng):
    return " ".join(sentence(rng, 4, 14) for _ in range(rng.randint(1, 3))).rstrip(".") + "?"


def reply(rng, i):
    parts = [paragraph(rng)]
    kind = i % 6
    if kind in (1, 4):
        parts.append("\n".join(f"- {sentence(rng, 4, 10)}" for _ in range(rng.randint(3, 6))))
    if kind == 2:
        lang = rng.choice(sorted(CODE))
        parts.append(f"```{lang}\n{CODE[lang]}```")
    if kind == 3:
        parts.append("\n".join(f"{k}. {sentence(rng, 4, 10)}" for k in range(1, rng.randint(3, 6))))
    if kind == 5 and rng.random() < 0.5:
        rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {sentence(rng, 3, 6)} |"
                         for _ in range(rng.randint(3, 6)))
        parts.append(f"| name | value | note |\n| --- | ---: | --- |\n{rows}")
    if rng.random() < 0.5:
        parts.append(paragraph(rng, rng.randint(1, 3)))
    return "\n\n".join(parts)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    db, conv, user = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 5)
    start = time.time()
    now_ms = int(start * 1000) - count * 60_000
    rows, chars = [], 0
    for i in range(count):
        mine = i % 2 == 0
        content = user_message(rng) if mine else reply(rng, i // 2)
        chars += len(content)
        rows.append((conv, user, "user" if mine else "assistant", content, "complete", now_ms + i * 60_000))
    con = sqlite3.connect(db, timeout=30)
    with con:
        con.executemany("INSERT INTO messages (conversation_id, user_id, role, content, status, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (int(time.time() * 1000), conv))
    con.close()
    print(f"messages {count}")
    print(f"characters {chars}")
    print(f"code_blocks {sum(1 for r in rows if '```' in r[3])}")
    print(f"seconds {time.time() - start:.2f}")


if __name__ == "__main__":
    main()
