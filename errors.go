// Package pinfold is the vocabulary of Pinfold: the audience data plane of Amazon Pinpoint
// (apps, endpoints, segments, import and export jobs) as plain Go types, the store interfaces
// that hold them, and the error codes every layer speaks. It has no SQL, no HTTP and no AWS SDK in it.
package pinfold

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one Pinpoint exception in api/errors.go.
const (
	EINVALID   = "invalid"   // BadRequestException, 400
	EFORBIDDEN = "forbidden" // ForbiddenException, 403
	ENOTFOUND  = "not_found" // NotFoundException, 404
	EMETHOD    = "method"    // MethodNotAllowedException, 405
	ETOOLARGE  = "too_large" // PayloadTooLargeException, 413
	ETOOMANY   = "too_many"  // TooManyRequestsException, 429
	EINTERNAL  = "internal"  // InternalServerErrorException, 500
)

// Error is an error a user is meant to see: a code from the list above and a message that
// says what to fix. Any other error is internal and is shown to users as a generic message.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("pinfold error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err if it is (or wraps) an *Error, a generic message
// for any other non-nil error, and "" for nil. Internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error."
}

// ErrDiskFull is what a store's error wraps when a write failed because the disk holding the
// database is full. Its message is meant for users: the write can be tried again once there is
// room, and nothing committed before it is lost.
var ErrDiskFull = &Error{Code: EINTERNAL, Message: "the disk holding Pinfold's database is full: free some space, then try again"}
