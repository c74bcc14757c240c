package storage

import "time"

// ScanDateForTest scans v as a date column is scanned.
func ScanDateForTest(v any) (time.Time, error) {
	var t time.Time
	err := date{&t}.Scan(v)
	return t, err
}
