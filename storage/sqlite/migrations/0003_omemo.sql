-- 0003: OMEMO (XEP-0384) state per account. Private keys and session
-- records are stored sealed (AES-256-GCM under the data key from the OS
-- keyring, with the row's identity as additional data): never in clear.

CREATE TABLE omemo_identity (
    account        INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    device_id      INTEGER NOT NULL CHECK (device_id BETWEEN 1 AND 2147483647),
    public_key     BLOB    NOT NULL,
    private_sealed BLOB    NOT NULL,
    created        INTEGER NOT NULL
) STRICT;

CREATE TABLE omemo_prekeys (
    account        INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id             INTEGER NOT NULL,
    public_key     BLOB    NOT NULL,
    private_sealed BLOB    NOT NULL,
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE omemo_signed_prekeys (
    account        INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    id             INTEGER NOT NULL,
    public_key     BLOB    NOT NULL,
    private_sealed BLOB    NOT NULL,
    signature      BLOB    NOT NULL,
    created        INTEGER NOT NULL,
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE omemo_sessions (
    account       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid           TEXT    NOT NULL,
    device        INTEGER NOT NULL,
    record_sealed BLOB    NOT NULL,
    updated       INTEGER NOT NULL,
    PRIMARY KEY (account, jid, device)
) STRICT, WITHOUT ROWID;

-- Every device ever seen in a device list; inactive ones keep their trust.
CREATE TABLE omemo_devices (
    account    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid        TEXT    NOT NULL,
    device     INTEGER NOT NULL,
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (account, jid, device)
) STRICT, WITHOUT ROWID;

-- Trust decisions per (jid, device, identity key): a changed key for a
-- known device is a new row, never a silent update.
CREATE TABLE omemo_trust (
    account      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    jid          TEXT    NOT NULL,
    device       INTEGER NOT NULL,
    identity_key BLOB    NOT NULL,
    state        INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
    first_seen   INTEGER NOT NULL,
    decided      INTEGER NOT NULL,
    PRIMARY KEY (account, jid, device, identity_key)
) STRICT, WITHOUT ROWID;
