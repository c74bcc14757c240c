// Package apperr defines the errors that cross package boundaries in Dayaq.
//
// An Error carries a Code (what kind of failure, mapped to an HTTP status at
// the edge), a catalogue key for the public, translatable message, and the
// internal cause, which is logged but never shown. Validation errors name
// the offending fields.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error. The HTTP layers map each code to a status.
type Code string

const (
	Invalid              Code = "invalid"               // the input is wrong; Fields say where
	NotFound             Code = "not_found"             // no such record, or not one the caller may see
	Conflict             Code = "conflict"              // the record changed since it was read, or already exists
	PreconditionRequired Code = "precondition_required" // an update did not say which version it is based on
	Unauthorized         Code = "unauthorized"          // no valid sign-in
	Forbidden            Code = "forbidden"             // signed in, but not allowed
	Unavailable          Code = "unavailable"           // a dependency (the database) is down
	Internal             Code = "internal"              // a bug or an unexpected failure
)

// FieldError points at one field of the input. Key is a catalogue key; Args
// fill its placeholders.
type FieldError struct {
	Field string
	Key   string
	Args  []any
}

// Error is an error with a code, a public message key and an internal cause.
type Error struct {
	Code   Code
	Key    string // catalogue key of the public message
	Args   []any
	Fields []FieldError
	Err    error // internal detail; logged, never shown
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Key
	for _, f := range e.Fields {
		msg += fmt.Sprintf(" [%s: %s]", f.Field, f.Key)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and public message key.
func New(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// Validation returns an Invalid error listing the fields at fault.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Key: "error.validation", Fields: fields}
}

// Field is shorthand for a FieldError.
func Field(field, key string, args ...any) FieldError {
	return FieldError{Field: field, Key: key, Args: args}
}

// As returns the *Error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Key: "error.internal", Err: err}
}

// CodeOf reports the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// Wrap annotates *errp with a formatted context, keeping its chain, when it is
// not nil. Use it deferred: defer apperr.Wrap(&err, "store.GetOrg(%q)", code).
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
