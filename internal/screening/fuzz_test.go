package screening

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzInstrumentJSON feeds any bytes to the instrument JSON the city
// administrator imports. Its seeds (testdata/fuzz/FuzzInstrumentJSON) are
// small, since the fuzzer minimises every new input it finds and the
// built-in SDQ's 20 KB would take it a minute each time;
// TestBuiltinsSurviveJSON puts the built-ins through the same checks.
func FuzzInstrumentJSON(f *testing.F) {
	f.Fuzz(checkInstrumentJSON)
}

// checkInstrumentJSON reads b as an instrument: that must not panic. An
// instrument that passes Check must still pass it after a round trip
// through JSON, and validating and scoring answer sets against it (none
// answered, every item at its lowest, at its highest, and past its top)
// must not panic nor give a score under a code the instrument lacks.
func checkInstrumentJSON(t *testing.T, b []byte) {
	var in Instrument
	if err := json.Unmarshal(b, &in); err != nil {
		return
	}
	if ps := in.Check(); ps != nil {
		return
	}
	again, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("an instrument that checks does not marshal: %v", err)
	}
	var back Instrument
	if err := json.Unmarshal(again, &back); err != nil {
		t.Fatalf("an instrument that checks does not read back: %v", err)
	}
	if ps := back.Check(); ps != nil {
		t.Fatalf("read back, the instrument no longer checks: %v", ps)
	}
	codes := map[string]bool{}
	for _, c := range in.ScoreCodes() {
		codes[c] = true
	}
	for _, inf := range in.Informants {
		for _, fill := range []int{-1, 0, 1, 2} {
			a := Answers{Informant: inf, Age: in.MinAge, Values: Values{}}
			for _, it := range in.Items {
				switch {
				case fill < 0:
				case fill == 0 || len(it.Options) == 0:
					a.Values[it.Code] = min(fill, 1)
				case fill == 1:
					a.Values[it.Code] = it.Options[len(it.Options)-1].Value
				default:
					a.Values[it.Code] = it.Options[len(it.Options)-1].Value + 1
				}
			}
			in.Validate(a)
			for c := range in.Score(a, "").Scores {
				if !codes[c] {
					t.Fatalf("score %q is not one of the instrument's %v", c, in.ScoreCodes())
				}
			}
		}
	}
}

// The built-ins pass the fuzzer's checks, and Builtin gives each one as
// Builtins does, and nothing for a code or version that is not built in.
func TestBuiltinsSurviveJSON(t *testing.T) {
	for _, in := range Builtins() {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if ps := in.Check(); ps != nil {
			t.Errorf("%s: %v", in.Code, ps)
		}
		checkInstrumentJSON(t, b)
		got, ok := Builtin(in.Code, in.Version)
		if !ok || !reflect.DeepEqual(got, in) {
			t.Errorf("Builtin(%q, %d) = %v, %v; want the one Builtins gives", in.Code, in.Version, got.Code, ok)
		}
		if _, ok := Builtin(in.Code, in.Version+1); ok {
			t.Errorf("Builtin(%q, %d) found a version that is not built in", in.Code, in.Version+1)
		}
	}
	if _, ok := Builtin("nope", 1); ok {
		t.Error("Builtin found an unknown code")
	}
}

// Answers read in one pass still name the item whose value is not a whole
// number.
func TestValuesNameTheItem(t *testing.T) {
	var a Answers
	if err := json.Unmarshal([]byte(`{"informant":"parent","answers":{"1":2,"7":0}}`), &a); err != nil || a.Values["1"] != 2 || len(a.Values) != 2 {
		t.Fatalf("whole numbers: %v %v", a.Values, err)
	}
	for _, b := range []string{`{"answers":{"1":2,"3":"x"}}`, `{"answers":{"3":1.5}}`} {
		err := json.Unmarshal([]byte(b), &a)
		var fe *FieldError
		if !asFieldError(err, &fe) || fe.Field != "answers.3" {
			t.Errorf("%s: %v, want an error on answers.3", b, err)
		}
	}
}

func asFieldError(err error, fe **FieldError) bool {
	for err != nil {
		if f, ok := err.(*FieldError); ok {
			*fe = f
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
