package endpointfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

// Row is one decoded line: its 1-based line number in the file, and either Update or Err.
type Row struct {
	// Line is the 1-based number of the row's physical line in the file, counting the
	// header and blank lines.
	Line int64
	// Update is the decoded and validated endpoint, or nil when Err is set.
	Update *pinfold.EndpointUpdate
	// Err is a *pinfold.Error with code EINVALID whose message says what is wrong with the
	// row, without a file or line prefix: the caller adds "s3://bucket/key:LINE: ".
	Err error
}

// Decoder reads rows one at a time.
type Decoder interface {
	// Next returns the next row, or io.EOF at the end. A non-nil error other than io.EOF is
	// an I/O error of the underlying reader (the whole piece fails then); row-level problems
	// are in Row.Err, never returned here.
	Next() (Row, error)
}

// MaxLineBytes is the longest line, without its terminator, that the decoders read. An
// endpoint is at most 15 KB (pinfold.MaxEndpointBytes); the margin is for quoting, escapes
// and repeated columns. A longer line is a row error and is skipped without being buffered.
const MaxLineBytes = 1 << 20

// readBufferSize is the size of the bufio buffer under a decoder. Lines that fit are handed
// out without copying; longer ones are gathered in a separate buffer up to MaxLineBytes.
const readBufferSize = 64 << 10

var bom = []byte("\xef\xbb\xbf")

// lineReader splits a stream into physical lines and numbers them.
type lineReader struct {
	br       *bufio.Reader
	long     []byte // holds a line longer than the bufio buffer
	next     int64  // number of the line the next call returns
	stripBOM bool   // strip a BOM from the next line (set for the first line of a file)
	err      error  // sticky I/O error
}

func newLineReader(r io.Reader, firstLine int64, stripBOM bool) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufferSize), next: firstLine, stripBOM: stripBOM}
}

// read returns the next line without its LF or CRLF, and its number. The line is valid until
// the next call. size is the length of a line longer than MaxLineBytes, which is then not
// returned (line is nil); it is 0 otherwise. At the end of the stream err is io.EOF; any other
// error comes from the underlying reader and is returned again by every later call.
func (lr *lineReader) read() (line []byte, num int64, size int, err error) {
	if lr.err != nil {
		return nil, 0, 0, lr.err
	}
	frag, err := lr.br.ReadSlice('\n')
	switch {
	case err == nil:
		line = frag
	case errors.Is(err, bufio.ErrBufferFull):
		line, size, err = lr.readLong(frag)
		if err != nil {
			lr.err = err
			return nil, 0, 0, err
		}
	case err == io.EOF && len(frag) > 0:
		line = frag
	default:
		lr.err = err
		return nil, 0, 0, err
	}
	num = lr.next
	lr.next++
	if size > 0 {
		lr.stripBOM = false
		return nil, num, size, nil
	}
	line = trimEOL(line)
	if lr.stripBOM {
		line = bytes.TrimPrefix(line, bom)
		lr.stripBOM = false
	}
	if len(line) > MaxLineBytes {
		return nil, num, len(line), nil
	}
	return line, num, 0, nil
}

// readLong gathers a line that does not fit the bufio buffer, starting with frag. Past
// MaxLineBytes (plus room for CRLF) it stops keeping bytes and only counts them until the end
// of the line; size is then the length of the line without its terminator.
func (lr *lineReader) readLong(frag []byte) (line []byte, size int, err error) {
	lr.long = append(lr.long[:0], frag...)
	n, over := len(frag), false
	for {
		frag, err = lr.br.ReadSlice('\n')
		n += len(frag)
		if n > MaxLineBytes+2 {
			over = true
		} else {
			lr.long = append(lr.long, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		if over {
			return nil, n - (len(frag) - len(trimEOL(frag))), nil
		}
		return lr.long, 0, nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// lineError returns the row error of a line that cannot be decoded at all, or nil: a line
// over MaxLineBytes (size > 0) or one that is not UTF-8.
func lineError(line []byte, size int) error {
	if size > 0 {
		return invalidf("line is %d bytes long; lines may be at most %d bytes (an endpoint may be at most %d bytes)",
			size, MaxLineBytes, pinfold.MaxEndpointBytes)
	}
	if !utf8.Valid(line) {
		return invalidf("line is not valid UTF-8 (bad byte at offset %d); files must be UTF-8", invalidUTF8At(line))
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of b that is not part of valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func invalidf(format string, args ...any) error {
	return pinfold.Errorf(pinfold.EINVALID, format, args...)
}

// The string fields of an EndpointUpdate, by index, and their dotted names: the CSV header
// names of PINPOINT.md §3.4 and the JSON paths of EndpointRequest.
const (
	fAddress = iota
	fChannelType
	fEffectiveDate
	fEndpointStatus
	fOptOut
	fRequestID
	fUserID
	fAppVersion
	fLocale
	fMake
	fModel
	fModelVersion
	fPlatform
	fPlatformVersion
	fTimezone
	fCity
	fCountry
	fPostalCode
	fRegion
	numStringFields
)

var stringFieldNames = [numStringFields]string{
	fAddress:         "Address",
	fChannelType:     "ChannelType",
	fEffectiveDate:   "EffectiveDate",
	fEndpointStatus:  "EndpointStatus",
	fOptOut:          "OptOut",
	fRequestID:       "RequestId",
	fUserID:          "User.UserId",
	fAppVersion:      "Demographic.AppVersion",
	fLocale:          "Demographic.Locale",
	fMake:            "Demographic.Make",
	fModel:           "Demographic.Model",
	fModelVersion:    "Demographic.ModelVersion",
	fPlatform:        "Demographic.Platform",
	fPlatformVersion: "Demographic.PlatformVersion",
	fTimezone:        "Demographic.Timezone",
	fCity:            "Location.City",
	fCountry:         "Location.Country",
	fPostalCode:      "Location.PostalCode",
	fRegion:          "Location.Region",
}

// The float fields of an EndpointUpdate, by index.
const (
	fLatitude = iota
	fLongitude
	numFloatFields
)

var floatFieldNames = [numFloatFields]string{
	fLatitude:  "Location.Latitude",
	fLongitude: "Location.Longitude",
}

// Prefixes of the names of custom values.
const (
	attributesPrefix     = "Attributes."
	metricsPrefix        = "Metrics."
	userAttributesPrefix = "User.UserAttributes."
)

// rowAlloc holds an update and the values its pointers point at, so that a row costs one
// allocation for all its scalar fields instead of one per field.
type rowAlloc struct {
	u    pinfold.EndpointUpdate
	strs [numStringFields]string
	nums [numFloatFields]float64
	n    int // number of string and float fields set
}

func (a *rowAlloc) setString(f int, v string) {
	a.strs[f] = v
	a.n++
	p := &a.strs[f]
	u := &a.u
	switch f {
	case fAddress:
		u.Address = p
	case fChannelType:
		u.ChannelType = p
	case fEffectiveDate:
		u.EffectiveDate = p
	case fEndpointStatus:
		u.EndpointStatus = p
	case fOptOut:
		u.OptOut = p
	case fRequestID:
		u.RequestID = p
	case fUserID:
		u.UserID = p
	case fAppVersion:
		u.Demographic.AppVersion = p
	case fLocale:
		u.Demographic.Locale = p
	case fMake:
		u.Demographic.Make = p
	case fModel:
		u.Demographic.Model = p
	case fModelVersion:
		u.Demographic.ModelVersion = p
	case fPlatform:
		u.Demographic.Platform = p
	case fPlatformVersion:
		u.Demographic.PlatformVersion = p
	case fTimezone:
		u.Demographic.Timezone = p
	case fCity:
		u.Location.City = p
	case fCountry:
		u.Location.Country = p
	case fPostalCode:
		u.Location.PostalCode = p
	case fRegion:
		u.Location.Region = p
	}
}

func (a *rowAlloc) setFloat(f int, v float64) {
	a.nums[f] = v
	a.n++
	if f == fLatitude {
		a.u.Location.Latitude = &a.nums[f]
	} else {
		a.u.Location.Longitude = &a.nums[f]
	}
}

func (a *rowAlloc) empty() bool {
	u := &a.u
	return a.n == 0 && u.ID == "" && len(u.Attributes) == 0 && len(u.UserAttributes) == 0 && len(u.Metrics) == 0
}

// finish checks a decoded update and returns its row.
func (a *rowAlloc) finish(num int64) Row {
	if a.empty() {
		return Row{Line: num, Err: invalidf("row sets no endpoint fields")}
	}
	if err := a.u.Validate(); err != nil {
		return Row{Line: num, Err: err}
	}
	return Row{Line: num, Update: &a.u}
}
