package s3

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// errMalformedChunk is returned when an aws-chunked body does not follow the format.
var errMalformedChunk = gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, "malformed aws-chunked request body")

// unchunk makes a PUT whose body is aws-chunked encoded (sent with x-amz-content-sha256:
// STREAMING-… or Content-Encoding: aws-chunked, as SDKs do for streamed uploads with
// checksums) look like a plain one: body decoded, Content-Length the decoded length. gofakes3
// decodes only the signed variant without trailers and would store any other one as is,
// framing included. Chunk signatures and trailing checksums are not checked here.
func unchunk(r *http.Request) *gofakes3.ErrorResponse {
	var encodings []string
	chunked := strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
	for _, v := range r.Header.Values("Content-Encoding") {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); strings.EqualFold(e, "aws-chunked") {
				chunked = true
			} else if e != "" {
				encodings = append(encodings, e)
			}
		}
	}
	if !chunked || r.Method != http.MethodPut {
		return nil
	}
	size, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return &gofakes3.ErrorResponse{
			Code:    gofakes3.ErrMissingContentLength,
			Message: "an aws-chunked body needs a valid x-amz-decoded-content-length header",
		}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{&chunkedReader{r: bufio.NewReader(r.Body)}, r.Body}
	r.ContentLength = size
	r.Header.Set("Content-Length", strconv.FormatInt(size, 10))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	r.Header.Del("Content-Encoding")
	if len(encodings) > 0 {
		r.Header.Set("Content-Encoding", strings.Join(encodings, ", "))
	}
	return nil
}

// chunkedReader reads the data of an aws-chunked body: chunks of
// "SIZE-IN-HEX[;chunk-signature=…]\r\nDATA\r\n", a last chunk of size 0, then optional trailer
// lines ("x-amz-checksum-crc32:…") and an empty line.
type chunkedReader struct {
	r       *bufio.Reader
	left    int64 // bytes of the current chunk not read yet
	started bool  // a chunk was read, so a CRLF ends its data
	done    bool  // the last chunk was read
}

// Read implements io.Reader.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next reads up to the data of the next chunk, or past the trailers after the last one.
func (c *chunkedReader) next() error {
	if c.started {
		if line, err := c.line(); err != nil || line != "" {
			return errMalformedChunk
		}
	}
	c.started = true
	line, err := c.line()
	if err != nil {
		return errMalformedChunk
	}
	hexSize, _, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(hexSize), 16, 64)
	if err != nil || size < 0 {
		return errMalformedChunk
	}
	if size > 0 {
		c.left = size
		return nil
	}
	c.done = true
	for {
		line, err := c.line()
		if errors.Is(err, io.EOF) || err == nil && line == "" {
			return nil
		} else if err != nil {
			return errMalformedChunk
		}
	}
}

// line reads one line without its line end. Lines longer than the reader's buffer are refused.
func (c *chunkedReader) line() (string, error) {
	b, err := c.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(b) == 0 {
			return "", io.EOF
		}
		return "", errMalformedChunk
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
