-- The endpoint and segment API: the INACTIVE rule, the attribute-name quota, DIMENSIONAL
-- segments.

-- Endpoint documents are JSON text, so that SQLite's JSON functions read them (a BLOB would
-- be taken for JSONB). New rows are written as text.
UPDATE endpoints SET data = CAST(data AS TEXT) WHERE typeof(data) = 'blob';

-- Writing an endpoint makes the app's other endpoints with its address INACTIVE.
CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> '';

-- Every custom attribute name an app has used, for its quota. kind is the RemoveAttributes
-- type: endpoint-custom-attributes, endpoint-metric-attributes, endpoint-user-attributes.
CREATE TABLE app_attributes (
	app_id TEXT NOT NULL,
	kind   TEXT NOT NULL,
	name   TEXT NOT NULL,
	PRIMARY KEY (app_id, kind, name)
) WITHOUT ROWID;
INSERT OR IGNORE INTO app_attributes (app_id, kind, name)
	SELECT e.app_id, 'endpoint-custom-attributes', a.key FROM endpoints e, json_each(e.data, '$.at') a;
INSERT OR IGNORE INTO app_attributes (app_id, kind, name)
	SELECT e.app_id, 'endpoint-metric-attributes', m.key FROM endpoints e, json_each(e.data, '$.m') m;
INSERT OR IGNORE INTO app_attributes (app_id, kind, name)
	SELECT e.app_id, 'endpoint-user-attributes', u.key FROM endpoints e, json_each(e.data, '$.ua') u;

-- The criteria of a DIMENSIONAL segment version, as JSON of pinfold.SegmentDimensions and
-- pinfold.SegmentGroupList; NULL when not given (and for IMPORT segments).
ALTER TABLE segment_versions ADD COLUMN dimensions TEXT;
ALTER TABLE segment_versions ADD COLUMN segment_groups TEXT;
