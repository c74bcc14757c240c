package surface

import (
	"strings"

	"dayaq/internal/apperr"
	"dayaq/internal/match"
)

// MatchQuery turns a query as clients send it (the API, the command line,
// the web form) into a validated query, naming every field at fault.
func MatchQuery(name, birthDate, schoolCode string) (match.Query, error) {
	q := match.Query{Name: name, School: strings.ToUpper(strings.TrimSpace(schoolCode))}
	var fs []apperr.FieldError
	if strings.TrimSpace(birthDate) != "" {
		bd, ok := match.ParseDate(birthDate)
		if !ok {
			fs = append(fs, apperr.Field("birth_date", "match.error.birth_date"))
		}
		q.BirthDate = bd
	}
	if err := q.Validate(); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return q, apperr.Validation(fs...)
	}
	return q, nil
}
