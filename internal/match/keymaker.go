package match

import "strings"

// KeyMaker computes Keys for many people, remembering how each name field
// it met was parsed: in a roster of two million pupils the same surnames,
// first names and patronymics come back over and over, and parsing them
// (folding, transliteration, skeletons) was most of the keys' cost. Its
// keys are exactly Keys'. A KeyMaker is not safe for concurrent use.
type KeyMaker struct {
	fields map[keyField][]Token
}

type keyField struct {
	s          string
	patronymic bool
}

// keyMakerFields bounds the fields a KeyMaker remembers; past it, new
// fields are parsed each time (a file of unique names costs no memory).
const keyMakerFields = 1 << 17

// NewKeyMaker returns an empty KeyMaker.
func NewKeyMaker() *KeyMaker {
	return &KeyMaker{fields: map[keyField][]Token{}}
}

// Keys returns Keys(p).
func (m *KeyMaker) Keys(p Person) []string {
	return recordKeys(Record{
		last:   m.field(p.LastName, false),
		first:  m.field(p.FirstName, false),
		father: m.field(p.Patronymic, true),
		birth:  p.BirthDate,
	})
}

// field is fieldName(s, patronymic), remembered. The tokens are shared
// between the records made with them: recordKeys only reads them.
func (m *KeyMaker) field(s string, patronymic bool) []Token {
	k := keyField{s, patronymic}
	if ts, ok := m.fields[k]; ok {
		return ts
	}
	ts := fieldName(s, patronymic)
	if len(m.fields) < keyMakerFields {
		m.fields[keyField{strings.Clone(s), patronymic}] = ts // s may be a slice of a whole CSV line
	}
	return ts
}
