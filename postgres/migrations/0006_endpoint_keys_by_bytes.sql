-- The endpoint columns that the indexes hold compare by their bytes, as the ID has since
-- 0004. An app ID, a user ID and an address are only ever compared for equality, where every
-- deterministic collation agrees with the bytes, but under the database's default collation
-- each B-tree comparison an insert makes in the three indexes went through the collation
-- library (strcoll or ICU) instead of memcmp: the bulk path's store limit is about 10% higher
-- on an ICU en-US database, 4% on a C.UTF-8 one (docs/performance.md). Indexes that do not
-- depend on a collation also cannot go out of order when the system's collation library
-- changes under the database. Changing only the collation rebuilds the indexes, not the table.
ALTER TABLE endpoints ALTER COLUMN app_id TYPE text COLLATE "C",
	ALTER COLUMN user_id TYPE text COLLATE "C",
	ALTER COLUMN address TYPE text COLLATE "C";
