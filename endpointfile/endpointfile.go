package endpointfile

import (
	"bytes"
	"errors"
	"io"
	"strings"
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

// readBufferSize is the size of a decoder's read buffer, and so the most input one chunk of
// lines holds. Lines that fit are handed out as substrings of their chunk; longer ones are
// gathered in a separate buffer up to MaxLineBytes.
const readBufferSize = 64 << 10

const bom = "\xef\xbb\xbf"

// maxEmptyReads is how many reads in a row may return no data and no error before the
// reader is taken to be broken (io.ErrNoProgress), as bufio does.
const maxEmptyReads = 100

// lineReader splits a stream into physical lines and numbers them.
//
// It reads into buf and converts the complete lines there to one string, the chunk: one
// allocation and copy per chunk instead of one per line. Lines, and the values the decoders
// cut out of them, are substrings of their chunk, so they stay valid after later reads
// (strings are immutable), and a value kept by a caller keeps its whole chunk in memory: at
// most readBufferSize bytes, or the one line when it is longer.
type lineReader struct {
	r        io.Reader
	rerr     error  // error of the last read of r, not acted on yet
	buf      []byte // buf[:n] is input read after the current chunk: part of a line
	n        int
	chunk    string // the lines not handed out yet start at chunk[pos]
	pos      int
	long     []byte // gathers a line longer than buf
	next     int64  // number of the line the next call returns
	stripBOM bool   // strip a BOM from the next line (set for the first line of a file)
	err      error  // sticky: io.EOF at the end, or an error of r once the lines before it are read
}

func newLineReader(r io.Reader, firstLine int64, stripBOM bool) *lineReader {
	return &lineReader{r: r, buf: make([]byte, readBufferSize), next: firstLine, stripBOM: stripBOM}
}

// read returns the next line without its LF or CRLF, and its number. The line is a substring
// of a chunk (see lineReader). size is the length of a line longer than MaxLineBytes, which is
// then not returned (line is ""); it is 0 otherwise. At the end of the stream err is io.EOF;
// any other error comes from the underlying reader and is returned again by every later call.
// The complete lines read before an error are returned first; a last line without a
// terminator is returned at io.EOF, and dropped at another error.
func (lr *lineReader) read() (line string, num int64, size int, err error) {
	for lr.pos >= len(lr.chunk) {
		if lr.err != nil {
			return "", 0, 0, lr.err
		}
		if size = lr.fill(); size > 0 {
			break
		}
	}
	num = lr.next
	lr.next++
	if size > 0 {
		lr.stripBOM = false
		return "", num, size, nil
	}
	rest := lr.chunk[lr.pos:]
	if k := strings.IndexByte(rest, '\n'); k >= 0 {
		line = rest[:k+1]
	} else {
		line = rest
	}
	lr.pos += len(line)
	line = trimEOL(line)
	if lr.stripBOM {
		line = strings.TrimPrefix(line, bom)
		lr.stripBOM = false
	}
	if len(line) > MaxLineBytes {
		return "", num, len(line), nil
	}
	return line, num, 0, nil
}

// readSome reads into p, once.
func (lr *lineReader) readSome(p []byte) (int, error) {
	if lr.rerr != nil {
		return 0, lr.rerr
	}
	for range maxEmptyReads {
		m, err := lr.r.Read(p)
		if m < 0 || m > len(p) {
			m, err = 0, errors.New("endpointfile: reader returned an invalid count")
		}
		lr.rerr = err
		if m > 0 || err != nil {
			return m, err
		}
	}
	lr.rerr = io.ErrNoProgress
	return 0, lr.rerr
}

// fill makes the next complete lines the chunk, or sets lr.err. A line longer than buf
// becomes a chunk of its own (readLong); when it is over MaxLineBytes, fill returns its
// length instead.
func (lr *lineReader) fill() (size int) {
	for {
		if lr.n == len(lr.buf) {
			return lr.readLong()
		}
		start := lr.n
		m, err := lr.readSome(lr.buf[start:])
		lr.n += m
		// From 0: after a long line, buf starts with the input that followed it.
		if k := bytes.LastIndexByte(lr.buf[:lr.n], '\n'); k >= 0 {
			end := k + 1
			lr.chunk, lr.pos = string(lr.buf[:end]), 0
			lr.n = copy(lr.buf, lr.buf[end:lr.n])
			return 0
		}
		if err == nil {
			continue
		}
		lr.err = err
		if err == io.EOF && lr.n > 0 {
			lr.chunk, lr.pos = string(lr.buf[:lr.n]), 0
		}
		lr.n = 0
		return 0
	}
}

// readLong gathers a line that does not fit buf, which holds its first bytes, and makes it
// the chunk; the input after its LF goes back to buf. Past MaxLineBytes (plus room for CRLF)
// it stops keeping bytes and only counts them, and returns the length of the line without
// its terminator.
func (lr *lineReader) readLong() (size int) {
	lr.long = append(lr.long[:0], lr.buf...)
	n, over := len(lr.buf), false
	last := lr.buf[len(lr.buf)-1] // the byte before the current read, to see a split CRLF
	for {
		m, err := lr.readSome(lr.buf)
		read := lr.buf[:m]
		k := bytes.IndexByte(read, '\n')
		frag := read
		if k >= 0 {
			frag = read[:k+1]
		}
		n += len(frag)
		if n > MaxLineBytes+2 {
			over = true
		} else {
			lr.long = append(lr.long, frag...)
		}
		if k < 0 && err == nil {
			if m > 0 {
				last = read[m-1]
			}
			continue
		}
		eol := 0
		if k >= 0 {
			eol = 1
			if k > 0 && read[k-1] == '\r' || k == 0 && last == '\r' {
				eol = 2
			}
			lr.n = copy(lr.buf, read[k+1:])
		} else {
			lr.n = 0
			lr.err = err
			if err != io.EOF {
				return 0
			}
		}
		if over {
			return n - eol
		}
		lr.chunk, lr.pos = string(lr.long), 0
		return 0
	}
}

func trimEOL(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
		if n := len(s); n > 0 && s[n-1] == '\r' {
			s = s[:n-1]
		}
	}
	return s
}

// lineError returns the row error of a line that cannot be decoded at all, or nil: a line
// over MaxLineBytes (size > 0) or one that is not UTF-8.
func lineError(line string, size int) error {
	if size > 0 {
		return invalidf("line is %d bytes long; lines may be at most %d bytes (an endpoint may be at most %d bytes)",
			size, MaxLineBytes, pinfold.MaxEndpointBytes)
	}
	if !utf8.ValidString(line) {
		return invalidf("line is not valid UTF-8 (bad byte at offset %d); files must be UTF-8", invalidUTF8At(line))
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of s that is not part of valid UTF-8.
func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
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
	// entries has checked each attribute and metric entry of the update as it was added,
	// in order, so that finish's validation does not visit them again.
	entries pinfold.EntryCheck
}

// rowSlabSize is how many rowAllocs rowSlab carves out of one allocation.
const rowSlabSize = 16

// rowSlab hands out rowAllocs from arrays of rowSlabSize, one allocation for many rows: a
// kept update keeps that array (about 9 KB) in memory, besides its chunk.
type rowSlab []rowAlloc

// next returns a zero rowAlloc.
func (s *rowSlab) next() *rowAlloc {
	if len(*s) == 0 {
		*s = make([]rowAlloc, rowSlabSize)
	}
	a := &(*s)[0]
	*s = (*s)[1:]
	return a
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

// finish checks a decoded update and returns its row. Its strings are valid UTF-8: both
// decoders check each line whole (lineError) and cut strings out of it at ASCII bytes or
// build them from whole runes, so the check of each string again is skipped. Each attribute
// and metric entry went through a.entries when the decoder added it, in order.
func (a *rowAlloc) finish(num int64) Row {
	if a.empty() {
		return Row{Line: num, Err: invalidf("row sets no endpoint fields")}
	}
	if err := a.u.ValidateChecked(&a.entries); err != nil {
		return Row{Line: num, Err: err}
	}
	return Row{Line: num, Update: &a.u}
}
