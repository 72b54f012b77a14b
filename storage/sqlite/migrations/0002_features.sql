-- 0002: what hangs off messages (reactions, attachments), the outbox,
-- archive cursors, caches and the block list.

-- XEP-0444: the current set of emojis of each sender.
CREATE TABLE reactions (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    sender  TEXT    NOT NULL,
    emoji   TEXT    NOT NULL,
    ts      INTEGER NOT NULL,
    PRIMARY KEY (message, sender, emoji)
) STRICT, WITHOUT ROWID;

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    message     INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    url         TEXT    NOT NULL,
    media_type  TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    size        INTEGER NOT NULL DEFAULT 0,
    width       INTEGER NOT NULL DEFAULT 0,
    height      INTEGER NOT NULL DEFAULT 0,
    sha256      BLOB,
    local_path  TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX attachments_message ON attachments (message);

-- Stanzas to (re)send until the server acknowledges them: a stored message
-- (rebuilt and encrypted at each attempt) or a serialised stanza.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message      INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    payload      BLOB,
    created      INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_attempt INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '',
    CHECK ((message IS NULL) <> (payload IS NULL))
) STRICT;
CREATE INDEX outbox_account ON outbox (account, id);
CREATE INDEX outbox_message ON outbox (message) WHERE message IS NOT NULL;

-- XEP-0313 positions: per archive, and per (archive, with) for a
-- conversation's scroll-back ('' = the archive-wide catch-up cursor).
CREATE TABLE mam_cursors (
    archive   INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
    with_jid  TEXT    NOT NULL DEFAULT '',
    newest    TEXT    NOT NULL DEFAULT '',
    newest_ts INTEGER,
    oldest    TEXT    NOT NULL DEFAULT '',
    oldest_ts INTEGER,
    complete  INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    PRIMARY KEY (archive, with_jid)
) STRICT, WITHOUT ROWID;

-- XEP-0115: disco#info results by verification string. Shared by all
-- accounts: the hash was verified, so the content is the same everywhere.
CREATE TABLE disco_cache (
    algo   TEXT    NOT NULL,
    ver    TEXT    NOT NULL,
    info   BLOB    NOT NULL,
    stored INTEGER NOT NULL,
    PRIMARY KEY (algo, ver)
) STRICT, WITHOUT ROWID;

-- XEP-0084 / XEP-0153 avatars, addressed by the SHA-1 of their bytes.
CREATE TABLE avatars (
    hash       TEXT    PRIMARY KEY,
    media_type TEXT    NOT NULL DEFAULT '',
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    data       BLOB    NOT NULL,
    stored     INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_avatars (
    account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid     TEXT    NOT NULL,
    hash    TEXT    NOT NULL,   -- '' = the contact has no avatar
    PRIMARY KEY (account, jid)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_avatars_hash ON contact_avatars (hash);

-- XEP-0191 block list, as the server has it.
CREATE TABLE blocklist (
    account INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid     TEXT    NOT NULL,
    PRIMARY KEY (account, jid)
) STRICT, WITHOUT ROWID;
