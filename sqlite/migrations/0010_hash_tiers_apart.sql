-- The two tiers of each table of user and address hashes (migration 0009) become two tables:
-- tier 0 keeps the name, without the tier column, and tier 1 is the table of the same name
-- with "_recent". Tier 1 was the tail of the same B-tree, so a merge read and wrote one
-- table in one statement (SQLite then copies what it reads to a temporary table first) and
-- deleted tier 1 entry by entry; apart, a merge copies one table into the other in key order
-- and empties tier 1 at once, and tier 1's adds descend a B-tree of its own size. In a
-- throwaway program (a million entries in tier 0, 2^19 added to tier 1 in 25,000-entry
-- transactions, then merged, three rounds) a merge took 0.54–0.68 s against 0.86–0.99 s and
-- the adds 1.40–1.47 s against 1.60–1.83 s (docs/performance.md).
CREATE TABLE endpoint_users_0 (
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (app, hash, rid)
) WITHOUT ROWID;
CREATE TABLE endpoint_users_recent (
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (app, hash, rid)
) WITHOUT ROWID;
CREATE TABLE endpoint_addresses_0 (
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (app, hash, rid)
) WITHOUT ROWID;
CREATE TABLE endpoint_addresses_recent (
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (app, hash, rid)
) WITHOUT ROWID;
-- Both tiers of the old tables go to tier 0 (an entry is in one tier only).
INSERT INTO endpoint_users_0 (app, hash, rid) SELECT app, hash, rid FROM endpoint_users ORDER BY app, hash, rid;
INSERT INTO endpoint_addresses_0 (app, hash, rid) SELECT app, hash, rid FROM endpoint_addresses ORDER BY app, hash, rid;
DROP TRIGGER IF EXISTS endpoints_user_hash;
DROP TRIGGER IF EXISTS endpoints_address_hash;
DROP TRIGGER IF EXISTS endpoints_hashes_delete;
DROP TABLE endpoint_users;
DROP TABLE endpoint_addresses;
ALTER TABLE endpoint_users_0 RENAME TO endpoint_users;
ALTER TABLE endpoint_addresses_0 RENAME TO endpoint_addresses;
-- The triggers of migration 0009, for the tables apart: an endpoint keeps its row (rid) and
-- its app when it is updated; a new entry goes to tier 1.
CREATE TRIGGER endpoints_user_hash AFTER UPDATE OF user_hash ON endpoints
WHEN OLD.user_hash IS NOT NEW.user_hash
BEGIN
	DELETE FROM endpoint_users WHERE app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	DELETE FROM endpoint_users_recent WHERE app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	INSERT INTO endpoint_users_recent (app, hash, rid) SELECT NEW.app, NEW.user_hash, NEW.rid WHERE NEW.user_hash IS NOT NULL;
END;
CREATE TRIGGER endpoints_address_hash AFTER UPDATE OF address_hash ON endpoints
WHEN OLD.address_hash IS NOT NEW.address_hash
BEGIN
	DELETE FROM endpoint_addresses WHERE app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
	DELETE FROM endpoint_addresses_recent WHERE app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
	INSERT INTO endpoint_addresses_recent (app, hash, rid) SELECT NEW.app, NEW.address_hash, NEW.rid WHERE NEW.address_hash IS NOT NULL;
END;
CREATE TRIGGER endpoints_hashes_delete AFTER DELETE ON endpoints
BEGIN
	DELETE FROM endpoint_users WHERE app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	DELETE FROM endpoint_users_recent WHERE app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	DELETE FROM endpoint_addresses WHERE app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
	DELETE FROM endpoint_addresses_recent WHERE app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
END;
