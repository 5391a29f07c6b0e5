-- The indexes on the user's and the address's hash become tables of their own, which the
-- store writes itself: (tier, app, hash, rid), rid naming the endpoint's row.
--
-- As indexes, they took an entry for every row an import inserted at a random place in a
-- B-tree as large as the app, so that every commit rewrote most of their pages: half of the
-- store limit's time (docs/performance.md). Now each table has two tiers. New entries go in
-- tier 1, a small B-tree that stays in the write connection's cache; once it holds enough,
-- the store merges it into tier 0 in one statement, in key order, which rewrites each page
-- of tier 0 once for many commits (sqlite/hashtables.go). Lookups read both tiers; an entry
-- is in one of them.
--
-- PutEndpoints adds the entries of the rows it inserts (no trigger: it adds them in one
-- statement). Updates and deletes keep the tables true through the triggers below.
CREATE TABLE endpoint_users (
	tier INTEGER NOT NULL,
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (tier, app, hash, rid)
) WITHOUT ROWID;
CREATE TABLE endpoint_addresses (
	tier INTEGER NOT NULL,
	app  INTEGER NOT NULL,
	hash INTEGER NOT NULL,
	rid  INTEGER NOT NULL,
	PRIMARY KEY (tier, app, hash, rid)
) WITHOUT ROWID;
INSERT INTO endpoint_users (tier, app, hash, rid)
	SELECT 0, app, user_hash, rid FROM endpoints WHERE user_hash IS NOT NULL ORDER BY app, user_hash, rid;
INSERT INTO endpoint_addresses (tier, app, hash, rid)
	SELECT 0, app, address_hash, rid FROM endpoints WHERE address_hash IS NOT NULL ORDER BY app, address_hash, rid;
DROP INDEX endpoints_user;
DROP INDEX endpoints_address;
-- An endpoint keeps its row (rid) and its app when it is updated.
CREATE TRIGGER endpoints_user_hash AFTER UPDATE OF user_hash ON endpoints
WHEN OLD.user_hash IS NOT NEW.user_hash
BEGIN
	DELETE FROM endpoint_users WHERE tier IN (0, 1) AND app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	INSERT INTO endpoint_users (tier, app, hash, rid) SELECT 1, NEW.app, NEW.user_hash, NEW.rid WHERE NEW.user_hash IS NOT NULL;
END;
CREATE TRIGGER endpoints_address_hash AFTER UPDATE OF address_hash ON endpoints
WHEN OLD.address_hash IS NOT NEW.address_hash
BEGIN
	DELETE FROM endpoint_addresses WHERE tier IN (0, 1) AND app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
	INSERT INTO endpoint_addresses (tier, app, hash, rid) SELECT 1, NEW.app, NEW.address_hash, NEW.rid WHERE NEW.address_hash IS NOT NULL;
END;
CREATE TRIGGER endpoints_hashes_delete AFTER DELETE ON endpoints
BEGIN
	DELETE FROM endpoint_users WHERE tier IN (0, 1) AND app = OLD.app AND hash = OLD.user_hash AND rid = OLD.rid;
	DELETE FROM endpoint_addresses WHERE tier IN (0, 1) AND app = OLD.app AND hash = OLD.address_hash AND rid = OLD.rid;
END;
