package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pinfold/pinfold"
)

// exceptions maps each error code to the Pinpoint exception and HTTP status that carry it.
var exceptions = map[string]struct {
	name   string
	status int
}{
	pinfold.EINVALID:   {"BadRequestException", http.StatusBadRequest},
	pinfold.EFORBIDDEN: {"ForbiddenException", http.StatusForbidden},
	pinfold.ENOTFOUND:  {"NotFoundException", http.StatusNotFound},
	pinfold.EMETHOD:    {"MethodNotAllowedException", http.StatusMethodNotAllowed},
	pinfold.ETOOLARGE:  {"PayloadTooLargeException", http.StatusRequestEntityTooLarge},
	pinfold.ETOOMANY:   {"TooManyRequestsException", http.StatusTooManyRequests},
	pinfold.EINTERNAL:  {"InternalServerErrorException", http.StatusInternalServerError},
}

// messageBody is Pinpoint's MessageBody: the body of every error and of a few successes.
type messageBody struct {
	Message   string `json:"Message"`
	RequestID string `json:"RequestID"`
}

// writeError is the one place an error becomes a response: the exception name in
// X-Amzn-ErrorType, its status, and a MessageBody. Internal errors are logged with the
// request ID and shown as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := pinfold.ErrorCode(err)
	exc, ok := exceptions[code]
	if !ok {
		exc = exceptions[pinfold.EINTERNAL]
	}
	id := requestID(r.Context())
	if code == pinfold.EINTERNAL {
		s.Logger.Error("internal error", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
	}
	w.Header().Set("X-Amzn-ErrorType", exc.name)
	writeJSON(w, exc.status, messageBody{Message: pinfold.ErrorMessage(err), RequestID: id})
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		w.Header().Set("X-Amzn-ErrorType", exceptions[pinfold.EINTERNAL].name)
		body = []byte(`{"Message":"Internal server error."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// decodeBody decodes a request body into v, a pointer to the wire struct of shape. Malformed
// JSON and members of the wrong type are EINVALID errors that name the member.
func decodeBody(body []byte, shape string, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return pinfold.Errorf(pinfold.EINVALID, "the request body is empty; it must be a JSON %s object", shape)
	}
	if !utf8.Valid(body) {
		return pinfold.Errorf(pinfold.EINVALID, "the request body is not valid UTF-8")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		err = checkNUL(body)
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case pinfold.ErrorCode(err) == pinfold.EINVALID:
		return err
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return pinfold.Errorf(pinfold.EINVALID, "the request body must be a JSON %s object, got a JSON %s", shape, typeErr.Value)
	case errors.As(err, &typeErr):
		return pinfold.Errorf(pinfold.EINVALID, "%s must be %s, got a JSON %s", memberPath(body, typeErr), jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return pinfold.Errorf(pinfold.EINVALID, "the request body is not valid JSON: %s at byte %d", syntaxErr.Error(), syntaxErr.Offset)
	}
	return pinfold.Errorf(pinfold.EINVALID, "the request body is not a valid %s: %s", shape, err.Error())
}

// checkNUL refuses a body with a NUL character in a key or value (written \u0000): no
// Pinpoint field holds one, and PostgreSQL cannot store it in text.
func checkNUL(body []byte) error {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil // the common case: no escape that could be NUL
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the body decoded once already; io.EOF ends the walk
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, 0) {
			return pinfold.Errorf(pinfold.EINVALID, "the request body holds a NUL character (\\u0000) in \"%s\"; remove it", strings.ReplaceAll(s, "\x00", "\\u0000"))
		}
	}
}

// memberPath names the member of body that typeErr is about, from the root, with map keys and
// array indexes: "Item.0.Metrics.visits". encoding/json's Field leaves map keys and indexes
// out before Go 1.27 ("Item.Metrics") and puts them in from 1.27, so the path is read from the
// body at the error's offset instead, the same whichever Go built the server.
func memberPath(body []byte, typeErr *json.UnmarshalTypeError) string {
	if path, ok := jsonPathAt(body, typeErr.Offset); ok && path != "" {
		return path
	}
	return typeErr.Field
}

// jsonPathAt returns the path of the value of body that ends at byte offset off, or, for an
// object or array, whose opening bracket ends there (where encoding/json's errors point). ok is
// false when no value is found there.
func jsonPathAt(body []byte, off int64) (path string, ok bool) {
	type level struct {
		object bool
		key    string // an object's current member
		index  int    // an array's current element
		isKey  bool   // an object's next token is a member's name
	}
	var levels []level
	// next moves the innermost level past the value just completed.
	next := func() {
		if n := len(levels); n > 0 {
			if levels[n-1].object {
				levels[n-1].isKey = true
			} else {
				levels[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // a number out of float64's range (1e400) is a token, not an error
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		n := len(levels)
		if n > 0 && levels[n-1].object && levels[n-1].isKey {
			if key, isString := tok.(string); isString {
				levels[n-1].key, levels[n-1].isKey = key, false
				continue
			}
		}
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			levels = levels[:n-1]
			next()
			continue
		}
		if dec.InputOffset() >= off {
			parts := make([]string, len(levels))
			for i, l := range levels {
				if l.object {
					parts[i] = l.key
				} else {
					parts[i] = strconv.Itoa(l.index)
				}
			}
			return strings.Join(parts, "."), true
		}
		switch tok {
		case json.Delim('{'):
			levels = append(levels, level{object: true, isKey: true})
		case json.Delim('['):
			levels = append(levels, level{})
		default:
			next()
		}
	}
}

// jsonKind names the JSON type that a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// logAttrs are the fixed keys the API logs with.
func logAttrs(r *http.Request) []any {
	return []any{slog.String("request_id", requestID(r.Context())), slog.String("method", r.Method), slog.String("path", r.URL.Path)}
}
