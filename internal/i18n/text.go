package i18n

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/collate"
)

// Upper upper-cases s by the rules of l: in Azerbaijani i → İ and ı → I.
func Upper(l Lang, s string) string { return cases.Upper(l.Tag()).String(s) }

// Lower lower-cases s by the rules of l: in Azerbaijani I → ı and İ → i.
func Lower(l Lang, s string) string { return cases.Lower(l.Tag()).String(s) }

// Collator returns a collator that sorts strings as speakers of l expect
// (in Azerbaijani: C Ç … I İ … O Ö … S Ş … E Ə …). A collator is not safe
// for concurrent use; make one per goroutine.
func Collator(l Lang) *collate.Collator {
	return collate.New(l.Tag(), collate.IgnoreCase)
}
