-- The endpoint and segment API: the INACTIVE rule, the attribute-name quota, DIMENSIONAL
-- segments.

-- Writing an endpoint makes the app's other endpoints with its address INACTIVE.
CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> '';

-- Every custom attribute name an app has used, for its quota. kind is the RemoveAttributes
-- type: endpoint-custom-attributes, endpoint-metric-attributes, endpoint-user-attributes.
CREATE TABLE app_attributes (
	app_id text NOT NULL,
	kind   text NOT NULL,
	name   text NOT NULL,
	PRIMARY KEY (app_id, kind, name)
);
INSERT INTO app_attributes (app_id, kind, name)
	SELECT DISTINCT e.app_id, 'endpoint-custom-attributes', a.name FROM endpoints e, jsonb_object_keys(e.data->'at') a(name)
	WHERE jsonb_typeof(e.data->'at') = 'object'
	ON CONFLICT DO NOTHING;
INSERT INTO app_attributes (app_id, kind, name)
	SELECT DISTINCT e.app_id, 'endpoint-metric-attributes', m.name FROM endpoints e, jsonb_object_keys(e.data->'m') m(name)
	WHERE jsonb_typeof(e.data->'m') = 'object'
	ON CONFLICT DO NOTHING;
INSERT INTO app_attributes (app_id, kind, name)
	SELECT DISTINCT e.app_id, 'endpoint-user-attributes', u.name FROM endpoints e, jsonb_object_keys(e.data->'ua') u(name)
	WHERE jsonb_typeof(e.data->'ua') = 'object'
	ON CONFLICT DO NOTHING;

-- The criteria of a DIMENSIONAL segment version, as JSON of pinfold.SegmentDimensions and
-- pinfold.SegmentGroupList; NULL when not given (and for IMPORT segments).
ALTER TABLE segment_versions ADD COLUMN dimensions jsonb;
ALTER TABLE segment_versions ADD COLUMN segment_groups jsonb;

-- pinfold_iso8601 reads a value the way pinfold.ParseISO8601 does, for the date criteria of
-- segments: a date (2025-03-10), or a date and a time with seconds, optional fractional
-- seconds after '.' or ',' and an optional zone (2025-03-10T08:00:00.5+02:00), or with
-- minutes and a zone (2025-03-10T08:00Z); no zone is UTC. Like Go it takes a one-digit hour
-- and zones up to +24:60, and refuses impossible dates (2025-02-30). The time is cut to the
-- millisecond, as pinfold.FormatISO8601 and SQLite have it. Anything else is NULL: the
-- function never raises an error, whatever text an attribute holds, and it depends on no
-- session setting (TimeZone, DateStyle).
CREATE FUNCTION pinfold_iso8601(v text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	p text[];
	y int; mo int; d int; h int := 0; mi int := 0; s int := 0; ms int := 0; zone int := 0;
	days bigint; era int; yoe int; doy int;
BEGIN
	IF length(v) > 64 THEN
		RETURN NULL;
	END IF;
	-- 1 year, 2 month, 3 day, 4 time, 5 hour, 6 minute, 7 :seconds, 8 seconds, 9 fraction,
	-- 10 zone, 11 sign, 12 zone hours, 13 zone minutes
	p := regexp_match(v, '^([0-9]{4})-([0-9]{2})-([0-9]{2})'
		'(T([0-9]{1,2}):([0-9]{2})(:([0-9]{2})(?:[.,]([0-9]+))?)?(Z|([+-])([0-9]{2}):([0-9]{2}))?)?$');
	IF p IS NULL OR (p[4] IS NOT NULL AND p[7] IS NULL AND p[10] IS NULL) THEN
		RETURN NULL; -- not a form ParseISO8601 reads; a time without seconds needs a zone
	END IF;
	y := p[1]::int; mo := p[2]::int; d := p[3]::int;
	-- In parentheses: PL/pgSQL ends an IF condition at the first THEN outside them.
	IF mo < 1 OR mo > 12 OR d < 1 OR d > (CASE
			WHEN mo = 2 AND y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29
			WHEN mo = 2 THEN 28
			WHEN mo IN (4, 6, 9, 11) THEN 30
			ELSE 31 END) THEN
		RETURN NULL;
	END IF;
	IF p[4] IS NOT NULL THEN
		h := p[5]::int; mi := p[6]::int; s := coalesce(p[8]::int, 0);
		ms := coalesce(rpad(left(p[9], 3), 3, '0')::int, 0);
		IF p[12] IS NOT NULL THEN
			zone := p[12]::int * 60 + p[13]::int;
			IF p[12]::int > 24 OR p[13]::int > 60 THEN
				RETURN NULL;
			END IF;
			IF p[11] = '-' THEN
				zone := -zone;
			END IF;
		END IF;
		IF h > 23 OR mi > 59 OR s > 59 THEN
			RETURN NULL;
		END IF;
	END IF;
	-- Days from 1970-01-01 of the proleptic Gregorian date (year 0000 too, which Go reads),
	-- by integer arithmetic that cannot fail.
	IF mo <= 2 THEN
		y := y - 1;
	END IF;
	era := CASE WHEN y >= 0 THEN y ELSE y - 399 END / 400;
	yoe := y - era * 400;
	doy := (153 * (CASE WHEN mo > 2 THEN mo - 3 ELSE mo + 9 END) + 2) / 5 + d - 1;
	days := era::bigint * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	RETURN (timestamp '1970-01-01 00:00:00' + make_interval(days => days::int)
		+ make_interval(secs => (((h * 60 + mi - zone) * 60 + s) * 1000 + ms) / 1000.0)) AT TIME ZONE 'UTC';
END
$$;
